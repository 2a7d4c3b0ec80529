"""What the shop's pages show, read in one place: the counter, the catalogue, the receipt."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from credits.errors import NotFound
from credits.models import Household, Redemption, ShopItem, User, Village
from credits.shop import catalogue, delivery, redemption, stock
from credits.shop.reconciliation import coverage
from credits.shop.redemption import Purse, purses
from credits.shop.settings import Settings, get_settings


@dataclass
class Counter:
    """The counter page: the household (if chosen), its purses, the items and warnings."""

    settings: Settings
    items: list[ShopItem]
    household: Household | None = None
    purses: list[Purse] = field(default_factory=list)
    recent: list[Redemption] = field(default_factory=list)
    overdue: int = 0
    outstanding: int = 0
    shelf_points: int = 0

    @property
    def spendable(self) -> int:
        return sum(p.balance for p in self.purses)

    @property
    def outrun(self) -> bool:
        return self.outstanding > self.shelf_points


def counter(session: Session, village: Village, household_id: int | None, now: datetime) -> Counter:
    """Read everything the counter shows; an unknown household id is NotFound."""
    view = Counter(
        settings=get_settings(session, village.id),
        items=catalogue.items(session, village.id, active_only=True),
        recent=redemption.recent(session, village.id, 8),
        overdue=len(delivery.overdue(session, village.id, now)),
    )
    view.outstanding, view.shelf_points = coverage(session, village)
    if household_id is not None:
        household = session.get(Household, household_id)
        if household is None or household.village_id != village.id:
            raise NotFound()
        view.household = household
        view.purses = purses(session, household)
    return view


@dataclass
class Catalogue:
    """The public catalogue: what points buy, what is in stock, who gave."""

    settings: Settings
    items: list[ShopItem]
    donors: list[stock.DonorLine]


def public_catalogue(session: Session, village: Village) -> Catalogue:
    settings = get_settings(session, village.id)
    return Catalogue(
        settings,
        catalogue.items(session, village.id, active_only=True),
        stock.donors(session, village.id) if settings.donors_public else [],
    )


@dataclass
class Receipt:
    redemption: Redemption
    cashier: User
    purses: list[Purse]
    needs_second: bool


def receipt(session: Session, village: Village, redemption_id: int, now: datetime) -> Receipt:
    from credits.shop.cancel import needs_second_person

    r = redemption.redemption_of(session, village.id, redemption_id)
    return Receipt(r, r.cashier, purses(session, r.household), needs_second_person(r, now))
