"""100 concurrent redemptions on separate connections compete for the last 10 units and for
households with just enough balance: exactly the feasible ones succeed, nothing goes
below zero, only the shop's own refusals are raised, and verify passes."""

from __future__ import annotations

import os
import threading

import pytest
from shop_support import NOW, give_points, key, stocked_item
from sqlalchemy import select

from credits.db import make_engine, make_session_factory
from credits.errors import DomainError
from credits.ledger import verify
from credits.models import Balance, Redemption, ShopItem
from credits.shop.errors import NotEnoughPoints, OutOfStock
from credits.shop.redemption import redeem
from credits.villages import add_household, ensure_group

# Two rounds locally; CI (CI=true) runs twenty unless RACE_REPEAT says otherwise.
REPEAT = int(os.environ.get("RACE_REPEAT") or (20 if os.environ.get("CI") else 2))
ATTEMPTS = 100
# PostgreSQL here allows 100 connections for every database together: 40 at a time, each
# attempt on a connection of its own for its whole transaction.
POOL = 40


def _households(session, world, count):
    group = ensure_group(session, world.village, "二组")
    homes = [
        add_household(session, world.village, head_name=f"竞{i}户", group=group, members=[])
        for i in range(count)
    ]
    session.commit()
    return homes


@pytest.mark.parametrize("round_", range(REPEAT))
def test_hundred_concurrent_redemptions_never_oversell(session, db_url, world, round_):
    cashier = world.users["cashier"]
    # Part one: 50 households each with plenty of points race for the last 10 bars of soap.
    # Part two: 10 households with exactly 20 points each send 5 baskets of 20 points:
    # one basket per household can succeed (10 of 50), the rest must be refused.
    rich = _households(session, world, 50)
    tight = _households(session, world, 10)
    for home in rich:
        give_points(session, home, world.scheme, 1000)
    for home in tight:
        give_points(session, home, world.scheme, 20)
    soap = stocked_item(session, cashier, world.village.id, quantity=10)
    rice = stocked_item(session, cashier, world.village.id, name="大米", price=20, quantity=500)
    jobs = [(h.id, soap.id) for h in rich] + [(h.id, rice.id) for h in tight for _ in range(5)]
    assert len(jobs) == ATTEMPTS
    engine = make_engine(db_url, pool_size=POOL, max_overflow=0, pool_timeout=300)
    session_factory = make_session_factory(engine)
    barrier = threading.Barrier(ATTEMPTS)
    outcomes: list[str] = []
    unexpected: list[BaseException] = []
    lock = threading.Lock()

    def attempt(household_id: int, item_id: int) -> None:
        s = session_factory()
        try:
            barrier.wait(timeout=60)
            actor = s.get(type(cashier), cashier.id)
            redeem(
                s,
                actor=actor,
                household_id=household_id,
                lines=[(item_id, 1)],
                idempotency_key=key(),
                now=NOW,
            )
            result = "ok"
        except (OutOfStock, NotEnoughPoints) as exc:
            s.rollback()
            result = type(exc).__name__
        except DomainError as exc:  # any other refusal is a wrong answer here
            s.rollback()
            result = repr(exc)
        except BaseException as exc:  # noqa: BLE001 - the test reports every failure
            s.rollback()
            with lock:
                unexpected.append(exc)
            result = "error"
        finally:
            s.close()
        with lock:
            outcomes.append(f"{item_id}:{result}")

    threads = [threading.Thread(target=attempt, args=job) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    engine.dispose()
    assert not unexpected, unexpected[:3]
    assert outcomes.count(f"{soap.id}:ok") == 10
    assert outcomes.count(f"{soap.id}:OutOfStock") == 40
    assert outcomes.count(f"{rice.id}:ok") == 10
    assert outcomes.count(f"{rice.id}:NotEnoughPoints") == 40
    session.expire_all()
    assert session.get(ShopItem, soap.id).stock == 0
    assert session.get(ShopItem, rice.id).stock == 490
    balances = session.scalars(select(Balance.balance)).all()
    assert min(balances) >= 0
    assert len(session.scalars(select(Redemption.id)).all()) == 20
    report = verify(session)
    assert report.ok, report.problems
