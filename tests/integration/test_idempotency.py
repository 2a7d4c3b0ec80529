"""The same submission twice creates one claim (DESIGN.md §4, promise 3)."""

from __future__ import annotations

import threading
import uuid
from dataclasses import replace

import pytest
from conftest import NOW, build_village
from sqlalchemy import func, select

from credits.errors import IdempotencyConflict
from credits.models import AuditEvent, Claim, User
from credits.workflow import ClaimInput, record_claim


def claim_count(session, **where):
    session.rollback()
    query = select(func.count(Claim.id))
    for name, value in where.items():
        query = query.where(getattr(Claim, name) == value)
    return session.scalar(query)


def submission(world, *, rule="XL01", household=0, note="扶老人过马路", key=None):
    return ClaimInput(
        household_id=world.households[household].id,
        rule_id=world.rule(rule).id,
        deed_date=NOW.date(),
        idempotency_key=key or uuid.uuid4().hex,
        note=note,
    )


def test_same_key_and_payload_returns_the_first_claim(session, world):
    data = submission(world)
    first = record_claim(session, actor=world.users["clerk"], data=data, now=NOW)
    again = record_claim(session, actor=world.users["clerk"], data=data, now=NOW)
    # A retry may trim differently or come from another clerk's tablet: still the same claim.
    retried = record_claim(
        session, actor=world.users["clerk2"], data=replace(data, note=f"  {data.note} "), now=NOW
    )
    assert first.id == again.id == retried.id
    assert claim_count(session) == 1
    records = session.scalar(
        select(func.count(AuditEvent.id)).where(AuditEvent.action == "claim.record")
    )
    assert records == 1


@pytest.mark.parametrize(
    "change",
    [
        {"note": "另一件事"},
        {"rule": "JY01"},
        {"household": 1},
    ],
)
def test_same_key_with_different_payload_is_refused(session, world, change):
    key = uuid.uuid4().hex
    record_claim(session, actor=world.users["clerk"], data=submission(world, key=key), now=NOW)
    with pytest.raises(IdempotencyConflict) as excinfo:
        record_claim(
            session, actor=world.users["clerk"], data=submission(world, key=key, **change), now=NOW
        )
    assert "提交" in excinfo.value.translated("zh_CN")
    assert claim_count(session) == 1


def test_different_date_or_member_is_a_different_payload(session, world):
    data = submission(world)
    record_claim(session, actor=world.users["clerk"], data=data, now=NOW)
    member = world.households[0].members[1]
    for changed in (
        replace(data, member_id=member.id),
        replace(data, deed_date=data.deed_date.replace(day=1)),
    ):
        with pytest.raises(IdempotencyConflict):
            record_claim(session, actor=world.users["clerk"], data=changed, now=NOW)
    assert claim_count(session) == 1


def test_a_key_belongs_to_one_village(session, world, other_world):
    key = uuid.uuid4().hex
    a = record_claim(session, actor=world.users["clerk"], data=submission(world, key=key), now=NOW)
    b = record_claim(
        session, actor=other_world.users["clerk"], data=submission(other_world, key=key), now=NOW
    )
    assert a.id != b.id
    assert (a.village_id, b.village_id) == (world.village.id, other_world.village.id)
    assert claim_count(session) == 2


def _race(session_factory, world, data, threads):
    """Submit the same data from several threads, each with its own session."""
    barrier = threading.Barrier(threads)
    results: list[object] = [None] * threads
    clerks = [world.users[name].id for name in ("clerk", "clerk2")]

    def submit(i: int) -> None:
        s = session_factory()
        try:
            actor = s.get(User, clerks[i % 2])
            s.commit()  # hold no transaction (on SQLite: no write lock) at the barrier
            barrier.wait(timeout=30)
            results[i] = record_claim(s, actor=actor, data=data, now=NOW).id
        except Exception as exc:  # reported below
            s.rollback()
            results[i] = exc
        finally:
            s.close()

    workers = [threading.Thread(target=submit, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)
    assert not any(w.is_alive() for w in workers), "a submitting thread hung"
    return results


@pytest.mark.parametrize(
    "rule",
    [
        "JY01",  # no cap
        "XL03",  # +10 with a monthly cap of 10: the first claim fills the cap
    ],
)
def test_concurrent_double_submission_creates_one_claim(session, session_factory, rule):
    world = build_village(session, "VR", "双击村")
    data = submission(world, rule=rule)
    # End the set-up's transaction without expiring its objects: on SQLite every
    # transaction holds the write lock, and a refresh would open a new one.
    session.commit()
    results = _race(session_factory, world, data, threads=4)
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors
    assert len(set(results)) == 1, results
    assert claim_count(session, village_id=world.village.id) == 1
    # The one claim is the submission itself: its key, household, rule and points.
    claim = session.get(Claim, results[0])
    assert claim is not None
    assert (claim.idempotency_key, claim.household_id, claim.rule_id, claim.note) == (
        data.idempotency_key,
        data.household_id,
        data.rule_id,
        data.note,
    )
    assert claim.points == world.rule(rule).points and claim.state == "recorded"
    # Recorded once: one audit event, and the cap counts the points once.
    records = select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "claim.record",
        AuditEvent.village_id == world.village.id,
        AuditEvent.object_id == claim.id,
    )
    assert session.scalar(records) == 1
    others = select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "claim.record", AuditEvent.village_id == world.village.id
    )
    assert session.scalar(others) == 1
