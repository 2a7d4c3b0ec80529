"""The township and county table: villages of a region side by side for one period.

Every number comes from the village aggregates (credits.oversight.aggregates) and a
count of households per village, so the cost grows with villages, never with entries.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from credits.access import Permission, has_permission, visible_villages
from credits.errors import PermissionDenied, ValidationError
from credits.i18n import N_
from credits.models import (
    Household,
    Objection,
    ObjectionState,
    Region,
    User,
    Village,
    VillagePeriod,
)
from credits.models.user import REGION_ROLES
from credits.oversight.periods import ALL, Period
from credits.paging import Page
from credits.shop.reconciliation import shelf_points

PER_PAGE = 100
MAX_PER_PAGE = 500
# Sortable columns: the `?sort=` value and its label (msgid); "-col" sorts descending.
COLUMNS: dict[str, str] = {
    "rank": N_("Rank"),
    "name": N_("Village"),
    "households": N_("Households"),
    "active": N_("Active households"),
    "participation": N_("Participation"),
    "points_awarded": N_("Points issued"),
    "per_household": N_("Points per household"),
    "deductions": N_("Deductions"),
    "points_deducted": N_("Points deducted"),
    "redemptions": N_("Redemptions"),
    "points_redeemed": N_("Points redeemed"),
    "outstanding": N_("Points outstanding"),
    "shelf_points": N_("Shelf value in points"),
    "open_objections": N_("Open objections"),
    "last_activity": N_("Last activity"),
}


@dataclass
class VillageRow:
    """One village's numbers for the period (or the region's total when village_id is 0)."""

    village_id: int
    code: str
    name: str
    township: str
    households: int = 0
    active: int = 0
    points_awarded: int = 0
    deductions: int = 0
    points_deducted: int = 0
    redemptions: int = 0
    points_redeemed: int = 0
    outstanding: int = 0
    shelf_points: int = 0  # what the shop's stock can honour, at the village's points rate
    has_shop: bool = False  # stock ever moved (no shop, no shelf to compare with)
    open_objections: int = 0
    last_activity: datetime | None = None
    rank: int = 0

    @property
    def participation(self) -> float:
        """Share of households with at least one posted award in the period (0..1)."""
        return self.active / self.households if self.households else 0.0

    @property
    def outruns(self) -> bool:
        """The points outstanding exceed what the shelf can honour (积分不值钱 looms)."""
        return self.has_shop and self.outstanding > self.shelf_points

    @property
    def per_household(self) -> float:
        return self.points_awarded / self.households if self.households else 0.0


@dataclass
class TownshipTable:
    region_name: str
    period: Period
    sort: str
    total: VillageRow
    page: Page[VillageRow]
    all_rows: list[VillageRow] = field(default_factory=list)


def require_region_admin(actor: User) -> None:
    """Only county and township staff compare villages; village staff are refused."""
    if actor.role not in REGION_ROLES or not has_permission(actor, Permission.VIEW):
        raise PermissionDenied()


def rank_villages(rows: list[VillageRow]) -> None:
    """Rank by participation, then points per household; equal pairs share a rank (1, 1, 3)."""
    ordered = sorted(rows, key=lambda r: (-r.participation, -r.per_household, r.code))
    previous: tuple[float, float] | None = None
    for position, row in enumerate(ordered, start=1):
        key = (round(row.participation, 9), round(row.per_household, 9))
        if key != previous:
            row.rank, previous = position, key
        else:
            row.rank = ordered[position - 2].rank


def sort_rows(rows: list[VillageRow], sort: str) -> list[VillageRow]:
    """Sort by a column of COLUMNS ("-col" descending); ties by village code."""
    name = sort.removeprefix("-")
    if name not in COLUMNS:
        raise ValidationError(N_("This column cannot be sorted."))
    descending = sort.startswith("-")

    def value(row: VillageRow) -> object:
        found = getattr(row, name)
        return found or datetime.min if name == "last_activity" else found

    by_code = sorted(rows, key=lambda r: r.code)
    return sorted(by_code, key=value, reverse=descending)  # type: ignore[arg-type]


def _scope_villages(session: Session, actor: User) -> list[tuple[int, str, str, str]]:
    scope = visible_villages(actor)
    return list(
        session.execute(
            select(Village.id, Village.code, Village.name, Region.name)
            .join(Region, Region.id == Village.region_id)
            .where(Village.id.in_(scope))
        ).all()  # type: ignore[arg-type]
    )


def region_name(session: Session, actor: User) -> str:
    if actor.region_id is None:
        return ""
    return session.scalar(select(Region.name).where(Region.id == actor.region_id)) or ""


def village_rows(session: Session, actor: User, period: Period) -> list[VillageRow]:
    """Every village of the actor's scope with its numbers for the period (unsorted)."""
    require_region_admin(actor)
    rows = {
        vid: VillageRow(village_id=vid, code=code, name=name, township=township)
        for vid, code, name, township in _scope_villages(session, actor)
    }
    if not rows:
        return []
    scope = visible_villages(actor)
    for vid, count in session.execute(
        select(Household.village_id, func.count())
        .where(Household.village_id.in_(scope), Household.active.is_(True))
        .group_by(Household.village_id)
    ):
        rows[vid].households = int(count)
    for vp in session.scalars(
        select(VillagePeriod).where(
            VillagePeriod.village_id.in_(scope), VillagePeriod.period.in_([period.key, ALL])
        )
    ):
        row = rows.get(vp.village_id)
        if row is None:
            continue
        if vp.period == ALL:
            row.outstanding, row.last_activity = vp.balance_net, vp.last_posted_at
        else:
            row.active = vp.households_active
            row.points_awarded = vp.points_awarded
            row.deductions, row.points_deducted = vp.deductions, vp.points_deducted
            row.redemptions, row.points_redeemed = vp.redemptions, vp.points_redeemed
    for vid, count in session.execute(
        select(Objection.village_id, func.count())
        .where(Objection.village_id.in_(scope), Objection.state == ObjectionState.OPEN)
        .group_by(Objection.village_id)
    ):
        rows[vid].open_objections = int(count)
    for vid, shelf in shelf_points(session, list(rows)).items():
        rows[vid].shelf_points, rows[vid].has_shop = shelf, True
    result = list(rows.values())
    rank_villages(result)
    return result


def total_of(rows: list[VillageRow], name: str) -> VillageRow:
    """The region's total row: sums, and participation over all its households."""
    total = VillageRow(village_id=0, code="", name=name, township="")
    for row in rows:
        for attr in (
            "households",
            "active",
            "points_awarded",
            "deductions",
            "points_deducted",
            "redemptions",
            "points_redeemed",
            "outstanding",
            "shelf_points",
            "open_objections",
        ):
            setattr(total, attr, getattr(total, attr) + getattr(row, attr))
        if row.last_activity and (
            not total.last_activity or row.last_activity > total.last_activity
        ):
            total.last_activity = row.last_activity
        total.has_shop = total.has_shop or row.has_shop
    return total


def township_table(
    session: Session,
    actor: User,
    period: Period,
    *,
    sort: str = "rank",
    page: int = 1,
    per_page: int = PER_PAGE,
) -> TownshipTable:
    """Build the township table: the total row, one sorted page of villages, all rows."""
    rows = village_rows(session, actor, period)
    ordered = sort_rows(rows, sort or "rank")
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    pages = max(1, -(-len(ordered) // per_page))
    page = max(1, min(page, pages))
    items = ordered[(page - 1) * per_page : page * per_page]
    name = region_name(session, actor)
    return TownshipTable(
        region_name=name,
        period=period,
        sort=sort or "rank",
        total=replace(total_of(rows, name)),
        page=Page(items=items, page=page, per_page=per_page, total=len(ordered)),
        all_rows=ordered,
    )
