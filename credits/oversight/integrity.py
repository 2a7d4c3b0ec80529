"""The integrity report (廉洁报告): per recorder and reviewer of a village and period.

Shares are compared with the village's other recorders (or reviewers): see `outlier`.
Nobody ever reads a row about themselves: the report drops the viewer's own rows.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from credits.access import Permission, can_see_village, has_permission
from credits.clock import to_local, utc_start_of
from credits.errors import PermissionDenied
from credits.models import Claim, ClaimState, Household, LedgerEntry, User
from credits.models.user import REGION_ROLES
from credits.oversight.periods import Period
from credits.text import COMPOUND_SURNAMES

MIN_COUNT = 3  # fewer awards (or reviews) than this: too few to flag or to compare with
FACTOR = 2.0  # flagged above twice the others' median …
FLOOR = 0.15  # … and at least 15 percentage points above it
APPROVAL_GAP = 0.3  # a reviewer's approval rate this far from the others' median
WORK_START, WORK_END = 8, 18  # village-local working hours, Monday to Friday
RECORDER_METRICS = ("top5_share", "kin_share", "off_hours_share", "undone_share")
REVIEWER_METRICS = ("kin_share",)


def surname(name: str) -> str:
    """The family name of a Chinese name: two characters for compound surnames."""
    name = (name or "").strip()
    return name[:2] if name[:2] in COMPOUND_SURNAMES else name[:1]


def off_hours(moment: datetime) -> bool:
    """Tell whether a stored (UTC) time falls outside village working hours or on a weekend."""
    local = to_local(moment)
    return local.weekday() >= 5 or local.hour < WORK_START or local.hour >= WORK_END


def outlier(value: float, others: list[float]) -> bool:
    """Flag a share above twice the others' median and at least FLOOR above it."""
    if not others:
        return False
    median = statistics.median(others)
    return value > FACTOR * median and value - median >= FLOOR


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


@dataclass
class RecorderRow:
    user_id: int
    name: str
    awards: int = 0
    points: int = 0
    top5_points: int = 0
    kin_awards: int = 0
    off_hours: int = 0
    reversed: int = 0
    rejected: int = 0
    flags: set[str] = field(default_factory=set)

    @property
    def top5_share(self) -> float:
        return _share(self.top5_points, self.points)

    @property
    def kin_share(self) -> float:
        return _share(self.kin_awards, self.awards)

    @property
    def off_hours_share(self) -> float:
        return _share(self.off_hours, self.awards)

    @property
    def undone(self) -> int:
        return self.reversed + self.rejected

    @property
    def undone_share(self) -> float:
        return _share(self.undone, self.awards)


@dataclass
class ReviewerRow:
    user_id: int
    name: str
    approved: int = 0
    rejected: int = 0
    kin_approved: int = 0
    flags: set[str] = field(default_factory=set)

    @property
    def reviews(self) -> int:
        return self.approved + self.rejected

    @property
    def approval_rate(self) -> float:
        return _share(self.approved, self.reviews)

    @property
    def kin_share(self) -> float:
        return _share(self.kin_approved, self.approved)


@dataclass
class IntegrityReport:
    village_id: int
    period: Period
    recorders: list[RecorderRow]
    reviewers: list[ReviewerRow]


def may_read(session: Session, actor: User, village_id: int) -> bool:
    """Reviewers (and village admins) of the village and region admins above it."""
    if not can_see_village(session, actor, village_id):
        return False
    return has_permission(actor, Permission.REVIEW) or (
        actor.role in REGION_ROLES and has_permission(actor, Permission.VIEW)
    )


def _range(period: Period) -> tuple[datetime, datetime]:
    first = date(period.first // 100, period.first % 100, 1)
    last = date(period.last // 100, period.last % 100, 1)
    after = (last + timedelta(days=32)).replace(day=1)
    return utc_start_of(first), utc_start_of(after)


def _kin(user: User | None, household_name: str, group_id: int | None, groups: dict) -> bool:
    """Same surname, and the same group when the user's own household is known."""
    if user is None or surname(user.display_name) != surname(household_name):
        return False
    own_group = groups.get(user.household_id) if user.household_id else None
    return own_group is None or own_group == group_id


def _flag(rows: list, metrics: tuple[str, ...], count: str) -> None:
    for row in rows:
        if getattr(row, count) < MIN_COUNT:
            continue
        peers = [r for r in rows if r is not row and getattr(r, count) >= MIN_COUNT]
        for metric in metrics:
            if outlier(getattr(row, metric), [getattr(p, metric) for p in peers]):
                row.flags.add(metric)


def build_report(session: Session, actor: User, village_id: int, period: Period) -> IntegrityReport:
    """Compute the report for a village and period, leaving out the actor's own rows."""
    if not may_read(session, actor, village_id):
        raise PermissionDenied()
    start, end = _range(period)
    claims = session.execute(
        select(Claim, Household.head_name, Household.group_id)
        .join(Household, Household.id == Claim.household_id)
        .where(Claim.village_id == village_id, Claim.points > 0)
        .where(
            ((Claim.recorded_at >= start) & (Claim.recorded_at < end))
            | ((Claim.reviewed_at >= start) & (Claim.reviewed_at < end))
        )
    ).all()
    entry, reversal = aliased(LedgerEntry), aliased(LedgerEntry)
    reversed_claims = set(
        session.scalars(
            select(entry.claim_id)
            .join(reversal, reversal.reverses_id == entry.id)
            .where(entry.village_id == village_id, entry.claim_id.is_not(None))
        )
    )
    user_ids = {c.recorded_by_id for c, _, _ in claims} | {
        c.reviewed_by_id for c, _, _ in claims if c.reviewed_by_id
    }
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(user_ids)))}
    own_homes = [u.household_id for u in users.values() if u.household_id]
    groups = dict(
        session.execute(
            select(Household.id, Household.group_id).where(Household.id.in_(own_homes))
        ).all()  # type: ignore[arg-type]
    )
    recorders: dict[int, RecorderRow] = {}
    reviewers: dict[int, ReviewerRow] = {}
    per_household: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for claim, head_name, group_id in claims:
        user = users.get(claim.recorded_by_id)
        if start <= claim.recorded_at < end:
            row = recorders.setdefault(
                claim.recorded_by_id,
                RecorderRow(claim.recorded_by_id, user.display_name if user else "?"),
            )
            row.awards += 1
            row.points += claim.points
            per_household[claim.recorded_by_id][claim.household_id] += claim.points
            row.kin_awards += _kin(user, head_name, group_id, groups)
            row.off_hours += off_hours(claim.recorded_at)
            row.rejected += claim.state == ClaimState.REJECTED
            row.reversed += claim.id in reversed_claims
        if claim.reviewed_by_id and claim.reviewed_at and start <= claim.reviewed_at < end:
            reviewer = users.get(claim.reviewed_by_id)
            rrow = reviewers.setdefault(
                claim.reviewed_by_id,
                ReviewerRow(claim.reviewed_by_id, reviewer.display_name if reviewer else "?"),
            )
            if claim.state == ClaimState.REJECTED:
                rrow.rejected += 1
            else:
                rrow.approved += 1
                rrow.kin_approved += _kin(reviewer, head_name, group_id, groups)
    for user_id, row in recorders.items():
        row.top5_points = sum(sorted(per_household[user_id].values(), reverse=True)[:5])
    recorder_rows = sorted(recorders.values(), key=lambda r: (-r.awards, r.name))
    reviewer_rows = sorted(reviewers.values(), key=lambda r: (-r.reviews, r.name))
    _flag(recorder_rows, RECORDER_METRICS, "awards")
    _flag(reviewer_rows, REVIEWER_METRICS, "approved")
    for rev in reviewer_rows:
        peers = [r.approval_rate for r in reviewer_rows if r is not rev and r.reviews >= MIN_COUNT]
        gap = abs(rev.approval_rate - statistics.median(peers)) if peers else 0.0
        if rev.reviews >= MIN_COUNT and gap >= APPROVAL_GAP:
            rev.flags.add("approval_rate")
    # Flags are computed with everyone; the viewer's own rows are then left out.
    return IntegrityReport(
        village_id=village_id,
        period=period,
        recorders=[r for r in recorder_rows if r.user_id != actor.id],
        reviewers=[r for r in reviewer_rows if r.user_id != actor.id],
    )
