"""Recent corrections on the public notice: reversals, and claims stopped by an objection."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from credits.models import Claim, ClaimState, EntryKind, Household, LedgerEntry
from credits.privacy import mask_name

CORRECTIONS_DAYS = 30


@dataclass(frozen=True)
class CorrectionItem:
    """A recent correction the village must see: a reversal, or a claim stopped by objection."""

    kind: str  # "reversal" | "withdrawn"
    scheme_id: int
    household: str
    house_number: str
    group_name: str
    title: str
    points: int  # the change it makes (a reversal's points; 0 for a withdrawn claim)
    original_points: int
    deed_date: date
    at: datetime  # stored time (naive UTC)
    reason: str


def recent_corrections(
    session: Session,
    village_id: int,
    *,
    now: datetime,
    scheme_id: int | None = None,
    group_id: int | None = None,
    days: int = CORRECTIONS_DAYS,
) -> list[CorrectionItem]:
    """Return reversals and claims withdrawn after an objection, of the last `days` days."""
    since = now - timedelta(days=days)
    entries = select(LedgerEntry).where(
        LedgerEntry.village_id == village_id,
        LedgerEntry.kind == EntryKind.REVERSAL,
        LedgerEntry.posted_at >= since,
    )
    # A claim withdrawn while on notice was stopped by an upheld objection.
    withdrawn = select(Claim).where(
        Claim.village_id == village_id,
        Claim.state == ClaimState.WITHDRAWN,
        Claim.reviewed_at.is_not(None),
        Claim.withdrawn_at >= since,
    )
    if scheme_id is not None:
        entries = entries.where(LedgerEntry.scheme_id == scheme_id)
        withdrawn = withdrawn.where(Claim.scheme_id == scheme_id)
    if group_id is not None:
        members = select(Household.id).where(
            Household.village_id == village_id, Household.group_id == group_id
        )
        entries = entries.where(LedgerEntry.household_id.in_(members))
        withdrawn = withdrawn.where(Claim.household_id.in_(members))
    items: list[CorrectionItem] = []
    for entry in session.scalars(
        entries.options(
            selectinload(LedgerEntry.household).selectinload(Household.group),
            selectinload(LedgerEntry.reverses),
        )
    ):
        household = entry.household
        items.append(
            CorrectionItem(
                kind="reversal",
                scheme_id=entry.scheme_id,
                household=mask_name(household.head_name),
                house_number=household.house_number,
                group_name=household.group.name if household.group else "",
                title=entry.title,
                points=entry.points,
                original_points=entry.reverses.points if entry.reverses else -entry.points,
                deed_date=entry.deed_date,
                at=entry.posted_at,
                reason=entry.reason,
            )
        )
    for claim in session.scalars(
        withdrawn.options(
            selectinload(Claim.household).selectinload(Household.group),
            selectinload(Claim.rule_version),
        )
    ):
        household = claim.household
        assert claim.withdrawn_at is not None
        items.append(
            CorrectionItem(
                kind="withdrawn",
                scheme_id=claim.scheme_id,
                household=mask_name(household.head_name),
                house_number=household.house_number,
                group_name=household.group.name if household.group else "",
                title=claim.rule_version.title,
                points=0,
                original_points=claim.points,
                deed_date=claim.deed_date,
                at=claim.withdrawn_at,
                reason=claim.withdraw_reason,
            )
        )
    items.sort(key=lambda c: c.at, reverse=True)
    return items
