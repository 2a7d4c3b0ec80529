"""Two requests on one claim at the same moment: one wins, the other is told (DESIGN §4.7).

Each racer has its own session and connection and waits at a barrier holding no
transaction, on SQLite and PostgreSQL, for notice periods 0 (approval posts at once)
and 7. After every race the claim's state agrees with the ledger and `verify` is
clean. `RACE_REPEAT` (default 3; 20 under CI=true) repeats each race.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from conftest import NOW, login, new_claim
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.extensions import db
from credits.errors import AlreadyReversed, InvalidState
from credits.ledger import verify
from credits.models import ChainHead, Claim, ClaimKind, ClaimState, LedgerEntry, User
from credits.workflow import (
    approve_claim,
    post_due,
    propose_correction,
    reject_claim,
    withdraw_claim,
)

REPEAT = int(os.environ.get("RACE_REPEAT") or (20 if os.environ.get("CI") else 3))
NOTICES = [0, 7]
LATER = NOW + timedelta(days=8)

Job = Callable[[Session, dict[str, User]], object]


def race(session_factory, world, *jobs: Job) -> list[object]:
    """Run the jobs at once, each on its own connection; return each result or exception."""
    barrier = threading.Barrier(len(jobs))
    results: list[object] = [None] * len(jobs)
    user_ids = {name: user.id for name, user in world.users.items()}

    def run(i: int, job: Job) -> None:
        s = session_factory()
        try:
            users = {name: s.get(User, uid) for name, uid in user_ids.items()}
            s.commit()  # hold no transaction (on SQLite: no write lock) at the barrier
            barrier.wait(timeout=30)
            results[i] = job(s, users)
        except Exception as exc:  # judged by the caller
            s.rollback()
            results[i] = exc
        finally:
            s.close()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a racing thread hung"
    return results


def one_winner(results: list[object], refusals: tuple[type[Exception], ...] = (InvalidState,)):
    """Exactly one job succeeded; every other was refused with a domain answer."""
    winners = [r for r in results if not isinstance(r, Exception)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1, results
    assert all(isinstance(r, refusals) for r in losers), losers
    for loser in losers:
        assert loser.status == 409
        assert loser.translated()  # a message for people, in Chinese
    return winners[0]


def state_agrees_with_ledger(session) -> None:
    """A posted claim has exactly one entry; any other claim has none; the chain verifies."""
    session.rollback()
    entries = dict(
        session.execute(
            select(LedgerEntry.claim_id, func.count(LedgerEntry.id))
            .where(LedgerEntry.claim_id.is_not(None))
            .group_by(LedgerEntry.claim_id)
        ).all()
    )
    for claim in session.scalars(select(Claim).execution_options(populate_existing=True)):
        want = 1 if claim.state == ClaimState.POSTED else 0
        assert entries.get(claim.id, 0) == want, (claim.id, claim.state, entries)
    reversed_ids = session.scalars(
        select(LedgerEntry.reverses_id).where(LedgerEntry.reverses_id.is_not(None))
    ).all()
    assert len(reversed_ids) == len(set(reversed_ids))
    report = verify(session)
    assert report.ok, report.problems


def state_of(session, claim_id: int) -> str:
    session.rollback()
    return session.get(Claim, claim_id, populate_existing=True).state


def with_notice(session, world, days: int) -> None:
    world.scheme.notice_days = days
    session.commit()


repeats = pytest.mark.parametrize("rep", range(REPEAT))
notices = pytest.mark.parametrize("notice", NOTICES)


@repeats
@notices
def test_approve_races_reject(session, session_factory, world, notice, rep):
    with_notice(session, world, notice)
    claim_id = new_claim(session, world).id
    winner = one_winner(
        race(
            session_factory,
            world,
            lambda s, u: approve_claim(s, actor=u["reviewer"], claim_id=claim_id, now=NOW).state,
            lambda s, u: (
                reject_claim(s, actor=u["admin"], claim_id=claim_id, reason="不实", now=NOW).state
            ),
        )
    )
    approved = ClaimState.POSTED if notice == 0 else ClaimState.NOTICED
    assert winner in (approved, ClaimState.REJECTED)
    assert state_of(session, claim_id) == winner
    state_agrees_with_ledger(session)


@repeats
@notices
def test_approve_races_approve(session, session_factory, world, notice, rep):
    with_notice(session, world, notice)
    claim_id = new_claim(session, world).id
    one_winner(
        race(
            session_factory,
            world,
            lambda s, u: approve_claim(s, actor=u["reviewer"], claim_id=claim_id, now=NOW),
            lambda s, u: approve_claim(s, actor=u["admin"], claim_id=claim_id, now=NOW),
        )
    )
    want = ClaimState.POSTED if notice == 0 else ClaimState.NOTICED
    assert state_of(session, claim_id) == want
    state_agrees_with_ledger(session)


@repeats
@notices
def test_withdraw_races_approve(session, session_factory, world, notice, rep):
    with_notice(session, world, notice)
    claim_id = new_claim(session, world).id
    winner = one_winner(
        race(
            session_factory,
            world,
            lambda s, u: withdraw_claim(s, actor=u["clerk"], claim_id=claim_id, now=NOW).state,
            lambda s, u: approve_claim(s, actor=u["reviewer"], claim_id=claim_id, now=NOW).state,
        )
    )
    assert state_of(session, claim_id) == winner
    state_agrees_with_ledger(session)


@repeats
@notices
def test_post_due_races_post_due(session, session_factory, world, notice, rep):
    """Claims whose 7-day notice ended post once; with notice 0, an approval posting at
    once races the two runs for the chain head as well."""
    due = [
        new_claim(session, world, household=h % 3, rule="JY01", approve_by="reviewer").id
        for h in range(6)
    ]
    with_notice(session, world, notice)
    extra = new_claim(session, world, household=1, rule="JY01", now=LATER).id
    jobs: list[Job] = [
        lambda s, u: post_due(s, now=LATER),
        lambda s, u: post_due(s, now=LATER),
    ]
    if notice == 0:
        jobs.append(
            lambda s, u: approve_claim(s, actor=u["reviewer"], claim_id=extra, now=LATER).state
        )
    results = race(session_factory, world, *jobs)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert results[0] + results[1] == len(due), results
    assert {state_of(session, i) for i in due} == {ClaimState.POSTED}
    if notice == 0:
        assert state_of(session, extra) == ClaimState.POSTED
    state_agrees_with_ledger(session)


def posted_entry(session, world) -> int:
    claim = new_claim(session, world, rule="JY01", approve_by="reviewer", now=NOW)
    post_due(session, now=NOW + timedelta(days=world.scheme.notice_days))
    entry_id = session.scalar(select(LedgerEntry.id).where(LedgerEntry.claim_id == claim.id))
    session.commit()  # hold no transaction while the racers run (SQLite: the write lock)
    return entry_id


@repeats
@notices
def test_correction_approve_races_correction_approve(session, session_factory, world, notice, rep):
    with_notice(session, world, notice)
    entry_id = posted_entry(session, world)
    correction = propose_correction(
        session, actor=world.users["clerk"], entry_id=entry_id, reason="记错了户", now=NOW
    )
    one_winner(
        race(
            session_factory,
            world,
            lambda s, u: approve_claim(s, actor=u["reviewer"], claim_id=correction.id, now=NOW),
            lambda s, u: approve_claim(s, actor=u["admin"], claim_id=correction.id, now=NOW),
        )
    )
    if notice:
        assert state_of(session, correction.id) == ClaimState.NOTICED
        assert post_due(session, now=LATER) == 1
    assert state_of(session, correction.id) == ClaimState.POSTED
    reversals = session.scalars(
        select(LedgerEntry).where(LedgerEntry.reverses_id == entry_id)
    ).all()
    assert [(r.points, r.claim_id, r.reason) for r in reversals] == [
        (-5, correction.id, "记错了户")
    ]
    state_agrees_with_ledger(session)


@repeats
@notices
def test_two_corrections_of_one_entry_proposed_at_once_make_one(
    session, session_factory, world, notice, rep
):
    with_notice(session, world, notice)
    entry_id = posted_entry(session, world)
    one_winner(
        race(
            session_factory,
            world,
            lambda s, u: propose_correction(s, actor=u["clerk"], entry_id=entry_id, reason="错"),
            lambda s, u: propose_correction(
                s, actor=u["reviewer"], entry_id=entry_id, reason="错了"
            ),
        ),
        refusals=(AlreadyReversed,),
    )
    session.rollback()
    assert (
        session.scalar(select(func.count(Claim.id)).where(Claim.kind == ClaimKind.CORRECTION)) == 1
    )
    state_agrees_with_ledger(session)


@repeats
def test_first_postings_of_a_village_race_without_error(session, session_factory, world, rep):
    """A village without a chain head (made before heads were created with villages)."""
    with_notice(session, world, 0)
    claims = [new_claim(session, world, household=h, rule="JY01").id for h in range(2)]
    session.execute(delete(ChainHead).where(ChainHead.village_id == world.village.id))
    session.commit()
    results = race(
        session_factory,
        world,
        lambda s, u: approve_claim(s, actor=u["reviewer"], claim_id=claims[0], now=NOW).state,
        lambda s, u: approve_claim(s, actor=u["admin"], claim_id=claims[1], now=NOW).state,
    )
    assert results == [ClaimState.POSTED, ClaimState.POSTED]
    state_agrees_with_ledger(session)
    assert session.get(ChainHead, world.village.id, populate_existing=True).seq == 2


# ---- the web answer of a racing loser ---------------------------------------------


@notices
def test_a_racing_loser_on_the_review_page_gets_409_not_500(app, web_world, notice):
    with app.app_context():
        with_notice(db.session, web_world, notice)
        claim_id = new_claim(db.session, web_world).id
    clients = []
    for name in ("reviewer", "admin"):
        client = app.test_client()
        login(client, web_world.users[name])
        clients.append(client)
    barrier = threading.Barrier(2)
    statuses: list[object] = [None, None]

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            if i == 0:
                response = clients[0].post(f"/v/VA/review/{claim_id}/approve")
            else:
                response = clients[1].post(
                    "/v/VA/review/decide",
                    data={"action": "reject", "c": claim_id, "reason": "不实"},
                )
            statuses[i] = (response.status_code, response.get_data(as_text=True))
        except Exception as exc:
            statuses[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    codes = sorted(s[0] for s in statuses)  # type: ignore[index]
    assert codes == [303, 409], statuses
    loser = next(s for s in statuses if s[0] == 409)  # type: ignore[index]
    assert "刷新" in loser[1]  # type: ignore[index]
    # Sent again, after the race: the same 409 with the claim's state named.
    again = clients[0].post(f"/v/VA/review/{claim_id}/approve")
    assert again.status_code == 409 and "刷新" in again.get_data(as_text=True)
    with app.app_context():
        state_agrees_with_ledger(db.session)
