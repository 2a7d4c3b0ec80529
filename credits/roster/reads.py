"""What the roster pages show: a page of households found, and one household with its points."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from credits import queries, search
from credits.models import Claim, Household, LedgerEntry, Member
from credits.paging import Page, paginate
from credits.roster.checks import HEAD, special_needs_of

STATUSES = ("active", "inactive", "all")


def households_page(
    session: Session,
    village_id: int,
    q: str = "",
    *,
    group_id: int | None = None,
    status: str = "active",
    page: int = 1,
    per_page: int = 30,
) -> Page[Household]:
    """One page of a village's households matching a search, best matches first.

    `extra["matched"]` holds, per household id, the labels of the members (not the head)
    the search found.
    """
    status = status if status in STATUSES else "active"
    query = search.household_query(village_id, q, group_id=group_id, status=status)
    found = paginate(session, query.options(selectinload(Household.members)), page, per_page)
    # The members a search found, by household: the list shows them under the head.
    found.extra["matched"] = {
        h.id: [search.member_label(m, h.members) for m in search.matching_members(h, q)]
        for h in found.items
    }
    return found


@dataclass
class HouseholdView:
    """A household page's contents: members (head first), needs, points, recent history."""

    household: Household
    members: list[Member]
    needs: list[str]
    totals: list[Any]
    claims: list[Claim]
    entries: list[LedgerEntry]
    month: int


def household_view(session: Session, household: Household) -> HouseholdView:
    """Everything the household page shows about one household."""
    return HouseholdView(
        household=household,
        members=sorted(household.members, key=lambda m: (not m.active, m.relation != HEAD, m.id)),
        needs=special_needs_of(household),
        totals=queries.household_totals(session, household),
        claims=recent_claims(session, household),
        entries=recent_entries(session, household),
        month=search.month_points(session, household.village_id, [household.id]).get(
            household.id, 0
        ),
    )


def recent_claims(session: Session, household: Household, limit: int = 10) -> list[Claim]:
    """The household's latest claims, newest first."""
    return list(
        session.scalars(
            select(Claim)
            .where(Claim.village_id == household.village_id, Claim.household_id == household.id)
            .options(
                selectinload(Claim.rule), selectinload(Claim.scheme), selectinload(Claim.member)
            )
            .order_by(Claim.recorded_at.desc(), Claim.id.desc())
            .limit(limit)
        )
    )


def recent_entries(session: Session, household: Household, limit: int = 10) -> list[LedgerEntry]:
    """The household's latest ledger entries, newest first."""
    return list(
        session.scalars(
            select(LedgerEntry)
            .where(
                LedgerEntry.village_id == household.village_id,
                LedgerEntry.household_id == household.id,
            )
            .options(selectinload(LedgerEntry.scheme))
            .order_by(LedgerEntry.seq.desc())
            .limit(limit)
        )
    )
