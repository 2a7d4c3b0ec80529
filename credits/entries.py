"""A household's ledger entries for staff, each with what corrected it, and staff names."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from credits.models import EntryKind, LedgerEntry, User
from credits.paging import Page, paginate


def staff_names(session: Session, ids: set[int | None]) -> dict[int, str]:
    """Return display names of staff users by id."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(select(User.id, User.display_name).where(User.id.in_(wanted)))
    return {row.id: row.display_name for row in rows}


@dataclass(frozen=True)
class EntryRow:
    """A ledger entry with what corrected it, or what it corrects."""

    entry: LedgerEntry
    reversed_by: LedgerEntry | None
    recorder: str
    approver: str

    @property
    def is_reversal(self) -> bool:
        return self.entry.kind == EntryKind.REVERSAL

    @property
    def can_reverse(self) -> bool:
        return not self.is_reversal and self.reversed_by is None


def household_entries(
    session: Session,
    village_id: int,
    household_id: int,
    *,
    scheme_id: int | None = None,
    page: int = 1,
    per_page: int = 30,
) -> Page[EntryRow]:
    """Return one page of a household's ledger entries, newest first, with reversal links."""
    query = (
        select(LedgerEntry)
        .where(LedgerEntry.village_id == village_id, LedgerEntry.household_id == household_id)
        .options(selectinload(LedgerEntry.reverses), selectinload(LedgerEntry.scheme))
        .order_by(LedgerEntry.seq.desc())
    )
    if scheme_id is not None:
        query = query.where(LedgerEntry.scheme_id == scheme_id)
    result = paginate(session, query, page, per_page)
    ids = [e.id for e in result.items]
    reversals: dict[int, LedgerEntry] = {}
    if ids:
        for rev in session.scalars(
            select(LedgerEntry).where(
                LedgerEntry.village_id == village_id, LedgerEntry.reverses_id.in_(ids)
            )
        ):
            assert rev.reverses_id is not None
            reversals[rev.reverses_id] = rev
    names = staff_names(
        session,
        {e.recorded_by_id for e in result.items} | {e.approved_by_id for e in result.items},
    )
    rows = [
        EntryRow(
            entry=e,
            reversed_by=reversals.get(e.id),
            recorder=names.get(e.recorded_by_id or 0, ""),
            approver=names.get(e.approved_by_id or 0, ""),
        )
        for e in result.items
    ]
    return Page(items=rows, page=result.page, per_page=per_page, total=result.total)
