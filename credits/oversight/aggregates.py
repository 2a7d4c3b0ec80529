"""Village aggregates kept at posting: a flush hook sees new ledger entries, no ledger edit.

`after_flush` runs inside the posting's transaction, so the aggregates commit or roll
back with the entry itself. `rebuild` recomputes them from the ledger (used by the
migration and by `flask rebuild-stats`); both go through `apply`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from credits.models import (
    EntryKind,
    LedgerEntry,
    VillagePeriod,
    VillagePeriodHousehold,
    VillagePeriodStat,
)
from credits.oversight.periods import keys_of_month

PERIOD_FIELDS = (
    "awards",
    "points_awarded",
    "deductions",
    "points_deducted",
    "redemptions",
    "points_redeemed",
    "reversals",
    "score_net",
    "balance_net",
)
STAT_FIELDS = ("awards", "points_awarded", "deductions", "points_deducted")


@dataclass(frozen=True)
class EntryFacts:
    """What the aggregates need of one ledger entry."""

    village_id: int
    scheme_id: int
    household_id: int
    kind: str
    points: int
    score_delta: int
    balance_delta: int
    period: int
    category: str
    posted_at: datetime


def effects(e: EntryFacts) -> dict[str, int]:
    """The counters one entry moves (a reversal takes its original's points back)."""
    d = dict.fromkeys(PERIOD_FIELDS, 0)
    d["score_net"], d["balance_net"] = e.score_delta, e.balance_delta
    if e.kind == EntryKind.AWARD:
        d["awards"], d["points_awarded"] = 1, e.points
    elif e.kind == EntryKind.DEDUCTION:
        d["deductions"], d["points_deducted"] = 1, -e.points
    elif e.kind == EntryKind.REDEMPTION:
        d["redemptions"], d["points_redeemed"] = 1, -e.balance_delta
    elif e.kind == EntryKind.REVERSAL:
        d["reversals"] = 1
        if e.points < 0:  # an award taken back
            d["points_awarded"] = e.points
        else:  # a deduction taken back
            d["points_deducted"] = -e.points
    return d


_STATEMENTS: dict[str, tuple[Any, Any, Any]] = {}


def _statements(dialect: str) -> tuple[Any, Any, Any]:
    """The three upserts, built once per dialect so SQLAlchemy compiles them once."""
    if dialect not in _STATEMENTS:
        module: Any = postgresql if dialect == "postgresql" else sqlite
        marker_table = VillagePeriodHousehold.__table__
        marker = (
            module.insert(marker_table)
            .on_conflict_do_nothing()
            .returning(marker_table.c.household_id)  # tells a new marker apart
        )
        table = VillagePeriod.__table__
        ins = module.insert(table)
        counters = (*PERIOD_FIELDS, "households_active")
        period = ins.on_conflict_do_update(
            index_elements=["village_id", "period"],
            set_={
                **{n: table.c[n] + ins.excluded[n] for n in counters},
                "last_posted_at": ins.excluded.last_posted_at,
            },
        )
        stat_table = VillagePeriodStat.__table__
        ins = module.insert(stat_table)
        stat = ins.on_conflict_do_update(
            index_elements=["village_id", "scheme_id", "period", "category"],
            set_={n: stat_table.c[n] + ins.excluded[n] for n in STAT_FIELDS},
        )
        _STATEMENTS[dialect] = (marker, period, stat)
    return _STATEMENTS[dialect]


def apply(conn: Connection, entries: Iterable[EntryFacts]) -> None:
    """Add entries to the aggregates with upserts (safe under concurrent postings)."""
    periods: dict[tuple[int, str], dict[str, Any]] = defaultdict(
        lambda: dict.fromkeys(PERIOD_FIELDS, 0)
    )
    stats: dict[tuple[int, int, int, str], dict[str, int]] = defaultdict(
        lambda: dict.fromkeys(STAT_FIELDS, 0)
    )
    markers: set[tuple[int, str, int]] = set()
    last: dict[tuple[int, str], datetime] = {}
    for e in entries:
        moved = effects(e)
        for key in keys_of_month(e.period):
            row = periods[(e.village_id, key)]
            for name, value in moved.items():
                row[name] += value
            if (e.village_id, key) not in last or last[(e.village_id, key)] < e.posted_at:
                last[(e.village_id, key)] = e.posted_at
            if e.kind == EntryKind.AWARD:
                markers.add((e.village_id, key, e.household_id))
        if e.kind in (EntryKind.AWARD, EntryKind.DEDUCTION, EntryKind.REVERSAL):
            stat = stats[(e.village_id, e.scheme_id, e.period, e.category)]
            for name in STAT_FIELDS:
                stat[name] += moved[name]
    marker_stmt, period_stmt, stat_stmt = _statements(conn.dialect.name)
    new_active: dict[tuple[int, str], int] = defaultdict(int)
    for village_id, key, household_id in sorted(markers):
        params = {"village_id": village_id, "period": key, "household_id": household_id}
        if conn.execute(marker_stmt, params).first() is not None:
            new_active[(village_id, key)] += 1
    for (village_id, key), row in sorted(periods.items()):
        conn.execute(
            period_stmt,
            {
                "village_id": village_id,
                "period": key,
                "last_posted_at": last[(village_id, key)],
                "households_active": new_active[(village_id, key)],
                **row,
            },
        )
    for (village_id, scheme_id, month, category), stat in sorted(stats.items()):
        params = {"village_id": village_id, "scheme_id": scheme_id, "period": month}
        conn.execute(stat_stmt, {**params, "category": category, **stat})


def _facts(entry: Any) -> EntryFacts:
    return EntryFacts(
        village_id=entry.village_id,
        scheme_id=entry.scheme_id,
        household_id=entry.household_id,
        kind=entry.kind,
        points=entry.points,
        score_delta=entry.score_delta,
        balance_delta=entry.balance_delta,
        period=entry.period,
        category=entry.category or "",
        posted_at=entry.posted_at,
    )


@event.listens_for(Session, "after_flush")
def _count_new_entries(session: Session, _context: object) -> None:
    # Entries are append-only, so new ones are all that can move the aggregates.
    new = [obj for obj in session.new if isinstance(obj, LedgerEntry)]
    if new:
        apply(session.connection(), (_facts(e) for e in sorted(new, key=lambda e: e.seq)))


def rebuild(conn: Connection, batch: int = 5000) -> int:
    """Recompute every aggregate from the ledger; return the number of entries read."""
    for model in (VillagePeriodHousehold, VillagePeriod, VillagePeriodStat):
        conn.execute(delete(model))
    cols = LedgerEntry.__table__.c
    query = select(
        cols.village_id,
        cols.scheme_id,
        cols.household_id,
        cols.kind,
        cols.points,
        cols.score_delta,
        cols.balance_delta,
        cols.period,
        cols.category,
        cols.posted_at,
        cols.id,
    ).order_by(cols.id)
    last_id, count = 0, 0
    while True:
        rows = conn.execute(query.where(cols.id > last_id).limit(batch)).all()
        if not rows:
            return count
        apply(conn, (EntryFacts(*row[:10]) for row in rows))
        last_id, count = rows[-1].id, count + len(rows)
