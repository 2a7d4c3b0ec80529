#!/usr/bin/env python
"""Benchmark the ledger core: posting, verification and the reads that must not grow.

Usage: .venv/bin/python scripts/bench_ledger.py [--url DATABASE_URL] [--households N]

Builds a fresh village in a scratch database (a temporary SQLite file by default; with --url
the database is EMPTIED first — never point it at real data), then measures:
- postings per second through append_entry (the hash chain and balance update),
- verify-ledger time per 1,000 entries,
- the village home page query and a household's balance read at 1× and 10× the entries,
  reported as a ratio (reads must not grow with the number of entries).
Times on this machine are noisy: compare ratios measured in one run.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select  # noqa: E402

from credits import queries  # noqa: E402
from credits.db import Base, make_engine, make_session_factory, utcnow  # noqa: E402
from credits.ledger import append_entry, verify  # noqa: E402
from credits.models import Balance, EntryKind, Household  # noqa: E402
from credits.rules import load_preset_into  # noqa: E402
from credits.villages import add_household, create_village, ensure_group  # noqa: E402
from credits.workflow import ensure_account  # noqa: E402


def timed(fn, repeat: int = 5) -> float:
    """Return the best of `repeat` runs, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def post_entries(session, accounts, count: int, rng: random.Random) -> float:
    """Append `count` entries in transactions of 50; return seconds."""
    start = time.perf_counter()
    now = utcnow()
    for i in range(count):
        account = rng.choice(accounts)
        points = rng.choice([3, 5, 10, 20, -5])
        append_entry(session, account, kind=EntryKind.AWARD if points > 0 else EntryKind.DEDUCTION,
                     points=points, score_delta=points, balance_delta=points,
                     deed_date=date(2026, 1, 1) + timedelta(days=i % 300), now=now,
                     category="benchmark", title="benchmark")
        if i % 50 == 49:
            session.commit()
    session.commit()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="database URL (emptied first!)")
    parser.add_argument("--households", type=int, default=300)
    parser.add_argument("--entries", type=int, default=3000)
    args = parser.parse_args()
    url = args.url or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    engine = make_engine(url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    session = make_session_factory(engine)()
    rng = random.Random(1)

    village = create_village(session, township="基准镇", name="基准村", code="BENCH")
    scheme = load_preset_into(session, village, "merit_bank")
    group = ensure_group(session, village, "一组")
    homes = [add_household(session, village, head_name=f"村民{i}", group=group)
             for i in range(args.households)]
    session.commit()
    accounts = [ensure_account(session, h, scheme.id) for h in homes]
    session.commit()

    def home_read() -> None:
        queries.household_page(session, village.id, [scheme], page=3, per_page=30)

    def balance_read() -> None:
        session.expire_all()
        session.scalar(select(Balance).where(Balance.account_id == accounts[7].id))

    print(f"database: {engine.dialect.name}, households: {args.households}")
    seconds = post_entries(session, accounts, args.entries, rng)
    print(f"posting: {args.entries / seconds:,.0f} entries/s ({args.entries} entries)")
    home_1, bal_1 = timed(home_read), timed(balance_read)
    verify_1 = timed(lambda: verify(session), repeat=1)
    post_entries(session, accounts, args.entries * 9, rng)
    home_10, bal_10 = timed(home_read), timed(balance_read)
    verify_10 = timed(lambda: verify(session), repeat=1)
    total = args.entries * 10
    print(f"verify: {verify_10 / total * 1000 * 1000:,.1f} ms per 1,000 entries "
          f"({total} entries: {verify_10:.2f} s; at 1/10 the entries: {verify_1:.2f} s)")
    print(f"village home read: {home_1 * 1000:.2f} ms → {home_10 * 1000:.2f} ms at 10× entries "
          f"(ratio {home_10 / home_1:.2f})")
    print(f"balance read: {bal_1 * 1000:.3f} ms → {bal_10 * 1000:.3f} ms at 10× entries "
          f"(ratio {bal_10 / bal_1:.2f})")
    assert verify(session).ok, "the benchmark's own ledger must verify"
    assert session.scalar(select(Household.id).limit(1)) is not None


if __name__ == "__main__":
    main()
