#!/usr/bin/env python
"""Benchmark the village board: its read time must not grow with the ledger's entries.

Usage: .venv/bin/python scripts/bench_boards.py [--url DATABASE_URL] [--households 1000]
       [--small 100000] [--large 1000000]

Builds one village with N households in a scratch database (a temporary SQLite file by
default; with --url the database is EMPTIED first — never point it at real data), bulk-
inserts `small` ledger entries over 24 months with their PeriodTotal and BoardTally rows
(inserted directly, as posting would leave them; the hash chain is not kept — it is not
read), times the board reads, grows the ledger to `large` entries and times them again.
Reports the best of 5 runs and the large/small ratio. Times on a shared machine are
noisy: compare the ratio of one run.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select, text  # noqa: E402

from credits.boards.pages import BoardQuery, board_page  # noqa: E402
from credits.boards.periods import ALL_TIME, parse_period  # noqa: E402
from credits.boards.policies import load_policy  # noqa: E402
from credits.boards.ranking import board  # noqa: E402
from credits.db import Base, make_engine, make_session_factory, utcnow  # noqa: E402
from credits.models import (  # noqa: E402
    Account,
    Balance,
    BoardTally,
    EntryKind,
    Household,
    LedgerEntry,
    PeriodTotal,
    Rule,
)
from credits.rules import load_preset_into  # noqa: E402
from credits.villages import create_village, ensure_group  # noqa: E402

MONTHS = [2025 * 100 + m for m in range(1, 13)] + [2026 * 100 + m for m in range(1, 13)]
TODAY = date(2026, 12, 3)


def timed(fn, repeat: int = 5) -> float:  # noqa: ANN001
    """Best of `repeat` runs, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


class Village:
    """The scratch village and the running totals the bulk insert keeps."""

    def __init__(self, session, households: int) -> None:  # noqa: ANN001
        village = create_village(session, township="测速镇", name="测速村", code="BENCH")
        self.scheme = load_preset_into(session, village, "merit_bank")
        groups = [ensure_group(session, village, f"{i + 1}组") for i in range(10)]
        session.commit()
        self.id = village.id
        session.execute(
            insert(Household),
            [
                {
                    "village_id": village.id,
                    "group_id": groups[i % 10].id,
                    "head_name": f"户主{i:04d}",
                    "house_number": f"{i + 1}号",
                }
                for i in range(households)
            ],
        )
        homes = session.scalars(select(Household.id).where(Household.village_id == village.id))
        session.execute(
            insert(Account),
            [
                {"village_id": village.id, "scheme_id": self.scheme.id, "household_id": h}
                for h in homes
            ],
        )
        session.commit()
        self.accounts = session.execute(
            select(Account.id, Account.household_id).where(Account.village_id == village.id)
        ).all()
        self.rules = session.execute(
            select(Rule.category, Rule.title, Rule.points).where(Rule.scheme_id == self.scheme.id)
        ).all()
        self.seq = 0
        self.totals: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])

    def add_entries(self, session, count: int, rng: random.Random) -> None:  # noqa: ANN001
        """Bulk-insert entries, then rewrite the totals tables to match them."""
        now = utcnow()
        batch = []
        for _ in range(count):
            self.seq += 1
            account_id, household_id = rng.choice(self.accounts)
            category, title, points = rng.choice(self.rules)
            period = rng.choice(MONTHS)
            kind = EntryKind.DEDUCTION if points < 0 else EntryKind.AWARD
            batch.append(
                {
                    "village_id": self.id,
                    "seq": self.seq,
                    "account_id": account_id,
                    "scheme_id": self.scheme.id,
                    "household_id": household_id,
                    "kind": kind,
                    "points": points,
                    "score_delta": points,
                    "balance_delta": points,
                    "period": period,
                    "category": category,
                    "title": title,
                    "deed_date": date(period // 100, period % 100, 1),
                    "note": "",
                    "reason": "",
                    "posted_at": now,
                    "prev_hash": "0" * 64,
                    "hash": "0" * 64,
                }
            )
            total = self.totals[(account_id, household_id, period, category)]
            total[0] += points
            total[1 if points > 0 else 2] += 1
            if len(batch) == 20000:
                session.execute(insert(LedgerEntry), batch)
                batch = []
        if batch:
            session.execute(insert(LedgerEntry), batch)
        session.query(PeriodTotal).delete()
        session.query(BoardTally).delete()
        session.query(Balance).delete()
        scores: dict[int, int] = defaultdict(int)
        for (a, _, _, _), (s, _, _) in self.totals.items():
            scores[a] += s
        session.execute(
            insert(Balance),
            [
                {"account_id": a, "village_id": self.id, "score": s, "balance": s}
                for a, s in scores.items()
            ],
        )
        base = {"village_id": self.id, "scheme_id": self.scheme.id}
        session.execute(
            insert(PeriodTotal),
            [
                {**base, "account_id": a, "household_id": h, "period": p, "category": c, "score": s}
                for (a, h, p, c), (s, _, _) in self.totals.items()
            ],
        )
        session.execute(
            insert(BoardTally),
            [
                {
                    **base,
                    "household_id": h,
                    "member_id": 0,
                    "period": p,
                    "category": c,
                    "score": s,
                    "awards": n,
                    "deductions": d,
                    "red_lines": 0,
                }
                for (_, h, p, c), (s, n, d) in self.totals.items()
            ],
        )
        session.commit()


def measure(session, village: Village) -> dict[str, float]:  # noqa: ANN001
    """Time the board reads once the data is in."""
    policy = load_policy(session, village.scheme)
    month, year = parse_period("2026-11"), parse_period("2026")
    from credits.models import Village as VillageRow

    row = session.get(VillageRow, village.id)

    def read(spec):  # noqa: ANN001, ANN202
        return lambda: board(session, village.id, village.scheme.id, spec, policy, today=TODAY)

    return {
        "month board": timed(read(month)),
        "year board": timed(read(year)),
        "all-time board": timed(read(ALL_TIME)),
        "staff page (board + black board)": timed(
            lambda: board_page(session, row, BoardQuery(period="2026-11"), today=TODAY)
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="scratch database URL (it is emptied first)")
    parser.add_argument("--households", type=int, default=1000)
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    args = parser.parse_args()
    url = args.url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    engine = make_engine(url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    session = make_session_factory(engine)()
    rng = random.Random(1)
    village = Village(session, args.households)
    results = {}
    for size in (args.small, args.large):
        start = time.perf_counter()
        village.add_entries(session, size - village.seq, rng)
        entries = session.scalar(select(func.count(LedgerEntry.id)))
        tallies = session.scalar(select(func.count(PeriodTotal.id)))
        print(
            f"{entries:>9,} entries, {tallies:,} period totals "
            f"(loaded in {time.perf_counter() - start:.0f} s)"
        )
        if engine.dialect.name == "postgresql":
            # What autovacuum would have done after such a load: fresh planner statistics.
            session.execute(text("ANALYZE"))
            session.commit()
        results[size] = measure(session, village)
        for name, seconds in results[size].items():
            print(f"    {name:<36} {seconds * 1000:8.1f} ms")
    print(f"ratio {args.large:,} / {args.small:,} entries:")
    for name in results[args.small]:
        print(f"    {name:<36} {results[args.large][name] / results[args.small][name]:8.2f}")
    print(f"database: {engine.dialect.name}")


if __name__ == "__main__":
    main()
