#!/usr/bin/env python
"""Benchmark the township view: its time must grow with villages, not with ledger entries.

Usage: .venv/bin/python scripts/bench_township.py [--url DATABASE_URL] [--households N]

Builds villages of one township in a scratch database (a temporary SQLite file by default;
with --url the database is EMPTIED first — never point it at real data), posts entries
through append_entry (so the aggregates are kept by the posting hook, as in production),
then times the township table (all villages, one page of 100) with both charts for a
month and for a year (best of 9; on PostgreSQL after VACUUM ANALYZE, as autovacuum would),
in three set-ups: 100 villages × E entries, 100 villages × 10·E entries, and 1,000
villages × E entries. Times on this machine are noisy: compare the ratios of one run.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select  # noqa: E402

from credits.db import Base, make_engine, make_session_factory, utcnow  # noqa: E402
from credits.ledger import GENESIS, append_entry  # noqa: E402
from credits.models import (  # noqa: E402
    Account,
    ChainHead,
    EntryKind,
    Household,
    Region,
    Role,
    Scheme,
    Village,
)
from credits.oversight import charts  # noqa: E402
from credits.oversight.periods import parse_period  # noqa: E402
from credits.oversight.township import township_table  # noqa: E402
from credits.users import create_user  # noqa: E402

CATEGORIES = ["孝老爱亲", "邻里互助", "志愿服务", "环境卫生", "移风易俗"]


def build(session, villages: int, households: int) -> tuple[Region, list[list[Account]]]:
    """Insert a township with villages, households, a scheme each and accounts (bulk)."""
    region = Region(name="基准镇", level="township", path="/")
    session.add(region)
    session.flush()
    region.path = f"/{region.id}/"
    session.execute(
        insert(Village),
        [
            {"region_id": region.id, "name": f"基准{i:04d}村", "code": f"B{i:04d}",
             "card_secret": "0" * 64, "created_at": utcnow()}
            for i in range(villages)
        ],
    )
    ids = list(session.scalars(select(Village.id).order_by(Village.id)))
    session.execute(insert(ChainHead), [{"village_id": v, "seq": 0, "hash": GENESIS} for v in ids])
    session.execute(
        insert(Scheme),
        [{"village_id": v, "key": "merit", "name": "功德银行", "unit": "分", "description": "",
          "notice_days": 7, "active": True, "created_at": utcnow()} for v in ids],
    )
    schemes = dict(session.execute(select(Scheme.village_id, Scheme.id)).all())
    session.execute(
        insert(Household),
        [{"village_id": v, "head_name": f"户{h}", "house_number": f"{h}号", "phone": "",
          "special_needs": "", "card_version": 1, "card_revoked": False, "active": True,
          "created_at": utcnow(), "head_key": "", "search_key": ""}
         for v in ids for h in range(households)],
    )
    session.execute(
        insert(Account),
        [{"village_id": v, "scheme_id": schemes[v], "household_id": h}
         for v, h in session.execute(select(Household.village_id, Household.id)).all()],
    )
    session.commit()
    by_village: dict[int, list[Account]] = {}
    for account in session.scalars(select(Account)):
        by_village.setdefault(account.village_id, []).append(account)
    return region, [by_village[v] for v in ids]


def post(session, accounts: list[list[Account]], per_village: int, rng: random.Random) -> float:
    """Post `per_village` entries in every village; return seconds."""
    start = time.perf_counter()
    now = utcnow()
    for village_accounts in accounts:
        for i in range(per_village):
            account = rng.choice(village_accounts)
            points = rng.choice([3, 5, 10, 20, -5])
            append_entry(
                session, account,
                kind=EntryKind.AWARD if points > 0 else EntryKind.DEDUCTION,
                points=points, score_delta=points, balance_delta=points,
                deed_date=date(2026, 1 + i % 12, 1 + i % 28), now=now,
                category=rng.choice(CATEGORIES) if points > 0 else "扣分", title="benchmark",
            )
        session.commit()
    return time.perf_counter() - start


def view(session, admin, key: str) -> None:
    """What the township page computes: the table, one page of 100, and both charts."""
    period = parse_period(key)
    table = township_table(session, admin, period, sort="-participation", per_page=100)
    charts.category_months(session, admin, period.year)
    charts.participation_grid(
        session, admin, [(r.village_id, r.name) for r in table.page.items], period.year
    )
    session.rollback()  # end the read transaction, as a request does


def timed(fn, repeat: int = 9) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def scenario(url: str, villages: int, households: int, per_village: int) -> dict[str, float]:
    engine = make_engine(url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    session = make_session_factory(engine)()
    region, accounts = build(session, villages, households)
    seconds = post(session, accounts, per_village, random.Random(1))
    admin = create_user(session, username="bench-admin", password="bench-pass-1",
                        role=Role.TOWNSHIP_ADMIN, display_name="基准", region_id=region.id)
    session.commit()
    if engine.dialect.name == "postgresql":
        # Each upsert leaves a dead row version behind; autovacuum clears them in a running
        # system, so measure the steady state rather than the minutes after a bulk load.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    result = {
        "entries": villages * per_village,
        "post_per_s": villages * per_village / seconds,
        "month_ms": timed(lambda: view(session, admin, "2026-11")) * 1000,
        "year_ms": timed(lambda: view(session, admin, "2026")) * 1000,
    }
    session.close()
    engine.dispose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="database URL (emptied first!)")
    parser.add_argument("--households", type=int, default=30)
    parser.add_argument("--entries", type=int, default=20, help="entries per village (1×)")
    args = parser.parse_args()
    url = args.url or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    rows = [
        ("100 villages, 1× entries", scenario(url, 100, args.households, args.entries)),
        ("100 villages, 10× entries", scenario(url, 100, args.households, 10 * args.entries)),
        ("1,000 villages, 1× entries", scenario(url, 1000, args.households, args.entries)),
    ]
    print(f"backend: {url.split(':', 1)[0]}, {args.households} households per village")
    print("| set-up | entries | posting/s | month view ms | year view ms |")
    print("| --- | --- | --- | --- | --- |")
    for name, r in rows:
        print(f"| {name} | {r['entries']:,} | {r['post_per_s']:.0f} | {r['month_ms']:.1f} "
              f"| {r['year_ms']:.1f} |")
    base = rows[0][1]
    print(f"10× entries / 1×: {rows[1][1]['month_ms'] / base['month_ms']:.2f} (month), "
          f"{rows[1][1]['year_ms'] / base['year_ms']:.2f} (year)")
    print(f"1,000 / 100 villages: {rows[2][1]['month_ms'] / base['month_ms']:.2f} (month), "
          f"{rows[2][1]['year_ms'] / base['year_ms']:.2f} (year)")


if __name__ == "__main__":
    main()
