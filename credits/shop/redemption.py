"""Redemption at the counter: one transaction moves stock, appends the ledger entries and
spends `balance` (never `score`: shopping does not lower a household's rank)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from credits import audit
from credits.access import Permission, check_recusal, require
from credits.clock import local_date, utc_start_of
from credits.db import lock_row, utcnow
from credits.errors import IdempotencyConflict, NotFound, ValidationError
from credits.i18n import N_, gettext
from credits.ledger import append_entry, ensure_balance
from credits.models import (
    Account,
    Balance,
    EntryKind,
    Household,
    MoveKind,
    Redemption,
    RedemptionLine,
    RedemptionPayment,
    RedemptionState,
    Scheme,
    ShopItem,
    User,
)
from credits.shop.catalogue import item_of
from credits.shop.errors import MonthlyLimit, NotEnoughPoints
from credits.shop.settings import get_settings
from credits.shop.stock import apply_move

MAX_LINES = 40
MAX_QUANTITY = 999


@dataclass(frozen=True)
class Purse:
    """What one scheme account of a household may spend, and its honour score."""

    account_id: int
    scheme_id: int
    scheme_name: str
    unit: str
    balance: int
    score: int


def purses(session: Session, household: Household) -> list[Purse]:
    """The household's accounts in the active schemes, in scheme order, with their balances."""
    rows = session.execute(
        select(Account, Scheme, Balance)
        .join(Scheme, Scheme.id == Account.scheme_id)
        .outerjoin(Balance, Balance.account_id == Account.id)
        .where(
            Account.village_id == household.village_id,
            Account.household_id == household.id,
            Scheme.active.is_(True),
        )
        .order_by(Scheme.id)
        .execution_options(populate_existing=True)
    ).all()
    return [
        Purse(a.id, s.id, s.name, s.unit, b.balance if b else 0, b.score if b else 0)
        for a, s, b in rows
    ]


def allocate(
    costs: dict[int | None, int],
    balances: list[tuple[int, int]],
    *,
    shared: bool,
    scheme_id: int | None = None,
) -> dict[int, int]:
    """Decide which scheme pays how much of a basket; refuse when the points do not suffice.

    `costs` maps a scheme id (None: any scheme) to the points of the items restricted to
    it; `balances` is (scheme id, spendable) in scheme order. Per scheme, one scheme pays
    everything: the one asked for, else the only one a restricted item names, else the
    first that can pay. Shared, restricted items are paid by their scheme first and the
    rest is drawn from the schemes in order.
    """
    total = sum(costs.values())
    have = dict(balances)
    if not shared:
        named = {s for s in costs if s is not None}
        if len(named) > 1 or (scheme_id is not None and named and named != {scheme_id}):
            raise ValidationError(
                N_("These items belong to different schemes; redeem them one scheme at a time.")
            )
        payer = scheme_id if scheme_id is not None else next(iter(named), None)
        if payer is None:
            payer = next(
                (s for s, b in balances if b >= total), balances[0][0] if balances else None
            )
        if payer is None or payer not in have or have[payer] < total:
            raise NotEnoughPoints(total=total, balance=have.get(payer, 0) if payer else 0)
        return {payer: total} if total else {}
    pay: dict[int, int] = {}
    for scheme, points in costs.items():
        if scheme is None:
            continue
        if have.get(scheme, 0) < points:
            raise NotEnoughPoints(total=total, balance=sum(have.values()))
        pay[scheme] = points
        have[scheme] -= points
    rest = costs.get(None, 0)
    for scheme, _balance in balances:
        if rest <= 0:
            break
        take = min(rest, have[scheme])
        if take > 0:
            pay[scheme] = pay.get(scheme, 0) + take
            rest -= take
    if rest > 0:
        raise NotEnoughPoints(total=total, balance=sum(b for _s, b in balances))
    return pay


def _basket(lines: list[tuple[int, int]]) -> dict[int, int]:
    basket: dict[int, int] = {}
    for item_id, quantity in lines:
        if quantity <= 0:
            continue
        basket[item_id] = basket.get(item_id, 0) + quantity
    if not basket:
        raise ValidationError(N_("The basket is empty: pick at least one item."))
    if len(basket) > MAX_LINES or any(q > MAX_QUANTITY for q in basket.values()):
        raise ValidationError(N_("At most 999 of an item and 40 items in one basket."))
    return basket


def month_taken(
    session: Session, village_id: int, household_id: int, item_id: int, now: datetime
) -> int:
    """How many of an item a household took this month (cancelled redemptions not counted)."""
    day = local_date(now)
    start = utc_start_of(day.replace(day=1))
    return int(
        session.scalar(
            select(func.coalesce(func.sum(RedemptionLine.quantity), 0))
            .join(Redemption, Redemption.id == RedemptionLine.redemption_id)
            .where(
                Redemption.village_id == village_id,
                Redemption.household_id == household_id,
                Redemption.state == RedemptionState.DONE,
                Redemption.created_at >= start,
                RedemptionLine.item_id == item_id,
            )
        )
        or 0
    )


def _same(existing: Redemption, household_id: int) -> Redemption:
    if existing.household_id != household_id:
        raise IdempotencyConflict()
    return existing


def redeem(
    session: Session,
    *,
    actor: User,
    household_id: int,
    lines: list[tuple[int, int]],
    idempotency_key: str,
    scheme_id: int | None = None,
    deliver: bool | None = None,
    ip: str | None = None,
    now: datetime | None = None,
) -> Redemption:
    """Redeem a basket for a household; a repeated key answers the first redemption."""
    now = now or utcnow()
    household = session.get(Household, household_id)
    if household is None:
        raise NotFound(N_("No such household."))
    require(session, actor, Permission.SHOP, household.village_id)
    check_recusal(actor.household_id, household.id)
    if not household.active:
        raise ValidationError(N_("This household no longer takes part."))
    key = (idempotency_key or "").strip()[:64]
    if not key:
        raise ValidationError(N_("The form has no valid submission key. Reload the page."))
    basket = _basket(lines)
    village_id = household.village_id
    # Every posting of the village queues on its chain head; taking it first keeps one
    # lock order (head, items, balances) for redemptions, cancels and awards alike.
    lock_row(session, "chain_head", "village_id", village_id)
    existing = session.scalar(
        select(Redemption).where(
            Redemption.village_id == village_id, Redemption.idempotency_key == key
        )
    )
    if existing is not None:
        return _same(existing, household.id)
    items = {i: item_of(session, village_id, i) for i in sorted(basket)}
    costs: dict[int | None, int] = {}
    for item in items.values():
        if not item.active:
            raise ValidationError(N_("%(item)s is no longer sold."), item=item.name)
        if item.monthly_limit is not None:
            used = month_taken(session, village_id, household.id, item.id, now)
            if used + basket[item.id] > item.monthly_limit:
                raise MonthlyLimit(item=item.name, limit=item.monthly_limit, used=used)
        costs[item.scheme_id] = costs.get(item.scheme_id, 0) + item.price * basket[item.id]
    settings = get_settings(session, village_id)
    wallet = purses(session, household)
    pay = allocate(
        costs,
        [(p.scheme_id, p.balance) for p in wallet],
        shared=settings.shared,
        scheme_id=scheme_id,
    )
    total = sum(costs.values())
    redemption = Redemption(
        village_id=village_id,
        household_id=household.id,
        total=total,
        idempotency_key=key,
        cashier_id=actor.id,
        created_at=now,
        deliver=bool(household.special_needs) if deliver is None else deliver,
    )
    session.add(redemption)
    session.flush()
    for item in items.values():
        quantity = basket[item.id]
        apply_move(
            session,
            item,
            kind=MoveKind.OUT,
            quantity=-quantity,
            now=now,
            actor=actor,
            redemption_id=redemption.id,
        )
        session.add(
            RedemptionLine(
                village_id=village_id,
                redemption_id=redemption.id,
                item_id=item.id,
                name=item.name,
                unit=item.unit,
                price=item.price,
                quantity=quantity,
                points=item.price * quantity,
            )
        )
    _pay(session, actor, redemption, wallet, pay, items, basket, now)
    redemption.balance_after = sum(p.balance for p in purses(session, household))
    audit.log(
        session,
        "shop.redeem",
        actor=actor,
        village_id=village_id,
        obj=redemption,
        ip=ip,
        at=now,
        after={"household": household.id, "total": total, "items": basket, "pay": pay},
    )
    session.commit()
    return redemption


def _pay(
    session: Session,
    actor: User,
    redemption: Redemption,
    wallet: list[Purse],
    pay: dict[int, int],
    items: dict[int, ShopItem],
    basket: dict[int, int],
    now: datetime,
) -> None:
    """Spend each scheme's share: a guarded balance check, then one ledger entry."""
    by_scheme = {p.scheme_id: p for p in wallet}
    what = "、".join(f"{items[i].name}×{q}" for i, q in basket.items())
    title = gettext("Points shop redemption %(number)s", number=redemption.number)
    for scheme_id, points in sorted(pay.items(), key=lambda sp: by_scheme[sp[0]].account_id):
        purse = by_scheme[scheme_id]
        account = session.get(Account, purse.account_id)
        assert account is not None
        ensure_balance(session, account)
        # A no-op UPDATE whose WHERE the database re-checks after any concurrent commit:
        # it takes the row lock and refuses when the balance no longer covers the share.
        guard = session.execute(
            update(Balance)
            .where(Balance.account_id == account.id, Balance.balance >= points)
            .values(balance=Balance.balance)
            .execution_options(synchronize_session=False)
        )
        if guard.rowcount != 1:  # type: ignore[attr-defined]
            raise NotEnoughPoints(total=redemption.total, balance=purse.balance)
        entry = append_entry(
            session,
            account,
            kind=EntryKind.REDEMPTION,
            points=-points,
            score_delta=0,
            balance_delta=-points,
            deed_date=local_date(now),
            now=now,
            category=gettext("Points shop"),
            title=title[:200],
            note=what[:2000],
            recorded_by_id=actor.id,
        )
        left = session.scalar(
            select(Balance.balance)
            .where(Balance.account_id == account.id)
            .execution_options(populate_existing=True)
        )
        if left is None or left < 0:  # the guard makes this impossible; refuse loudly if not
            raise NotEnoughPoints(total=redemption.total, balance=purse.balance)
        session.add(
            RedemptionPayment(
                village_id=redemption.village_id,
                redemption_id=redemption.id,
                account_id=account.id,
                scheme_id=scheme_id,
                points=points,
                entry_id=entry.id,
                balance_after=left,
            )
        )


def redemption_of(session: Session, village_id: int, redemption_id: int) -> Redemption:
    """Return a redemption of the village, or NotFound."""
    redemption = session.get(Redemption, redemption_id)
    if redemption is None or redemption.village_id != village_id:
        raise NotFound()
    return redemption


def recent(session: Session, village_id: int, limit: int = 20) -> list[Redemption]:
    """The village's latest redemptions, newest first."""
    return list(
        session.scalars(
            select(Redemption)
            .where(Redemption.village_id == village_id)
            .order_by(Redemption.created_at.desc(), Redemption.id.desc())
            .limit(limit)
        )
    )
