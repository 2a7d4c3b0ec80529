"""A rule's cap is never exceeded, also when claims race (DESIGN.md §4, promise 1 and issue 2)."""

from __future__ import annotations

import re
import threading
import uuid
from datetime import date, timedelta

import pytest
from conftest import NOW, correct_entry, new_claim
from sqlalchemy import func, select

from credits.errors import CapExceeded
from credits.ledger import verify
from credits.models import Claim, ClaimState, LedgerEntry, RuleVersion, User
from credits.models.claim import LIVE_STATES
from credits.rules import RuleInput, change_rule
from credits.workflow import ClaimInput, approve_claim, post_due, record_claim

CAP = 20  # XL01: +10 a claim, at most 20 a month per household
DAY = NOW.date()


def live_points(session, household_id, rule_id, month=DAY):
    session.rollback()
    return session.scalar(
        select(func.coalesce(func.sum(Claim.points), 0)).where(
            Claim.household_id == household_id,
            Claim.rule_id == rule_id,
            Claim.state.in_([s.value for s in LIVE_STATES]),
            Claim.deed_date >= month.replace(day=1),
            Claim.deed_date < (month.replace(day=1) + timedelta(days=32)).replace(day=1),
        )
    )


def posted_points(session, household_id, rule_id):
    """Net points of a rule's entries for a household (a reversal carries the rule version)."""
    session.rollback()
    return session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.points), 0))
        .join(RuleVersion, RuleVersion.id == LedgerEntry.rule_version_id)
        .where(LedgerEntry.household_id == household_id, RuleVersion.rule_id == rule_id)
    )


def race(session_factory, jobs):
    """Run record_claim jobs (actor id, ClaimInput) at once, each on its own connection."""
    barrier = threading.Barrier(len(jobs))
    results: list[object] = [None] * len(jobs)

    def run(i: int, actor_id: int, data: ClaimInput) -> None:
        s = session_factory()
        try:
            actor = s.get(User, actor_id)
            s.commit()  # hold no transaction (on SQLite: no write lock) at the barrier
            barrier.wait(timeout=30)
            results[i] = record_claim(s, actor=actor, data=data, now=NOW).id
        except Exception as exc:  # checked by the caller
            s.rollback()
            results[i] = exc
        finally:
            s.close()

    threads = [threading.Thread(target=run, args=(i, *job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)
    assert not any(t.is_alive() for t in threads), "a racing thread hung"
    unexpected = [r for r in results if isinstance(r, Exception) and not isinstance(r, CapExceeded)]
    assert not unexpected, unexpected
    return results


def jobs_for(world, households, rule="XL01"):
    clerks = [world.users[name].id for name in ("clerk", "clerk2", "admin")]
    return [
        (
            clerks[i % len(clerks)],
            ClaimInput(
                household_id=world.households[h].id,
                rule_id=world.rule(rule).id,
                deed_date=DAY - timedelta(days=i % 3),  # different days, same month
                idempotency_key=uuid.uuid4().hex,
            ),
        )
        for i, h in enumerate(households)
    ]


def approve_and_post_all(session, world, claim_ids):
    for claim_id in claim_ids:
        approve_claim(session, actor=world.users["reviewer"], claim_id=claim_id, now=NOW)
    post_due(session, now=NOW + timedelta(days=8))


@pytest.mark.parametrize(
    ("threads", "before"),
    [
        (2, 1),  # one claim already there: of two racing claims exactly one fits
        (4, 0),  # an empty month: two of four fit
        (4, 1),  # one of four fits
    ],
)
def test_racing_claims_for_one_household_never_exceed_the_monthly_cap(
    session, session_factory, world, threads, before
):
    assert DAY - timedelta(days=2) >= DAY.replace(day=1), "the racing claims share a month"
    home, rule = world.households[0], world.rule("XL01")
    assert (rule.points, rule.cap_month) == (10, CAP)
    earlier = [new_claim(session, world, day=DAY.replace(day=1)).id for _ in range(before)]
    session.commit()  # release the set-up's transaction without expiring objects
    results = race(session_factory, jobs_for(world, [0] * threads))
    won = [r for r in results if isinstance(r, int)]
    assert len(won) == CAP // 10 - before, results
    assert sum(isinstance(r, CapExceeded) for r in results) == threads - len(won)
    assert live_points(session, home.id, rule.id) == CAP
    approve_and_post_all(session, world, earlier + won)
    assert posted_points(session, home.id, rule.id) == CAP
    assert verify(session).ok


def test_a_cap_counts_per_household(session, session_factory, world):
    session.commit()
    results = race(session_factory, jobs_for(world, [0, 1, 0, 1]))
    assert all(isinstance(r, int) for r in results), results
    for h in (0, 1):
        assert live_points(session, world.households[h].id, world.rule("XL01").id) == CAP


def test_a_withdrawn_claim_frees_its_share_of_the_cap(session, world):
    from credits.workflow import withdraw_claim

    first = new_claim(session, world)
    new_claim(session, world)
    with pytest.raises(CapExceeded) as excinfo:
        new_claim(session, world)
    text = excinfo.value.translated("zh_CN")
    assert "上限" in text and "每月" in text
    assert not re.search(r"[A-Za-z]", text), text  # the period is translated too
    session.rollback()
    withdraw_claim(session, actor=world.users["clerk"], claim_id=first.id, now=NOW)
    assert new_claim(session, world).state == ClaimState.RECORDED
    assert live_points(session, world.households[0].id, world.rule("XL01").id) == CAP


def lower_cap(session, world, code, cap_month):
    rule = world.rule(code)
    return change_rule(
        session,
        actor=world.users["admin"],
        rule_id=rule.id,
        data=RuleInput(
            category=rule.category,
            title=rule.title,
            points=rule.points,
            cap_month=cap_month,
            cap_year=rule.cap_year,
            evidence_required=rule.evidence_required,
            red_line=rule.red_line,
        ),
    )


def test_posting_respects_a_cap_lowered_after_the_claims_were_recorded(session, world):
    home = world.households[0]
    claims = [new_claim(session, world, approve_by="reviewer") for _ in range(2)]
    assert live_points(session, home.id, world.rule("XL01").id) == CAP
    lower_cap(session, world, "XL01", 10)

    posted = post_due(session, now=NOW + timedelta(days=8))
    assert posted == 1
    assert posted_points(session, home.id, world.rule("XL01").id) == 10
    states = sorted(session.get(Claim, c.id, populate_existing=True).state for c in claims)
    assert states.count(ClaimState.POSTED) == 1
    # Running again (as cron does) neither posts past the cap nor fails.
    assert post_due(session, now=NOW + timedelta(days=9)) == 0
    assert posted_points(session, home.id, world.rule("XL01").id) == 10
    assert verify(session).ok


def test_immediate_posting_is_refused_past_a_lowered_cap(session, world):
    # A scheme without a notice period posts on approval; the lowered cap still holds.
    world.scheme.notice_days = 0
    session.commit()
    home = world.households[0]
    first = new_claim(session, world)
    second = new_claim(session, world)
    lower_cap(session, world, "XL01", 10)
    approve_claim(session, actor=world.users["reviewer"], claim_id=first.id, now=NOW)
    assert session.get(Claim, first.id).state == ClaimState.POSTED
    entries = session.scalar(select(func.count(LedgerEntry.id)))
    with pytest.raises(CapExceeded):
        approve_claim(session, actor=world.users["reviewer"], claim_id=second.id, now=NOW)
    session.rollback()
    assert session.get(Claim, second.id, populate_existing=True).state == ClaimState.RECORDED
    assert session.scalar(select(func.count(LedgerEntry.id))) == entries
    assert posted_points(session, home.id, world.rule("XL01").id) == 10
    assert verify(session).ok


def test_a_reversed_entry_does_not_count_against_the_cap_at_posting(session, world):
    world.scheme.notice_days = 0
    session.commit()
    home = world.households[0]
    first = new_claim(session, world, approve_by="reviewer")
    second = new_claim(session, world)
    lower_cap(session, world, "XL01", 10)
    entry = session.scalar(select(LedgerEntry).where(LedgerEntry.claim_id == first.id))
    correct_entry(session, world, entry.id, "记错了户")
    approve_claim(session, actor=world.users["reviewer"], claim_id=second.id, now=NOW)
    assert session.get(Claim, second.id).state == ClaimState.POSTED
    assert posted_points(session, home.id, world.rule("XL01").id) == 10
    assert verify(session).ok


def test_two_post_due_runs_at_once_post_each_claim_once(session, session_factory, world):
    ids = [
        new_claim(
            session,
            world,
            household=h % 3,
            rule="JY01",
            day=DAY - timedelta(days=h),
            approve_by="reviewer",
        ).id
        for h in range(20)
    ]
    session.commit()
    barrier = threading.Barrier(2)
    counts: list[object] = [None, None]

    def run(i: int) -> None:
        s = session_factory()
        try:
            s.connection()  # connect before the barrier, so both really start together
            s.commit()
            barrier.wait(timeout=30)
            counts[i] = post_due(s, now=NOW + timedelta(days=8))
        except Exception as exc:
            counts[i] = exc
        finally:
            s.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)
    assert all(isinstance(c, int) for c in counts), counts
    assert sum(counts) == len(ids), counts
    session.rollback()
    assert session.scalar(select(func.count(LedgerEntry.id))) == len(ids)
    assert verify(session).ok


def test_deed_dates_in_other_months_have_their_own_cap(session, world):
    for day in (date(2026, 10, 5), date(2026, 10, 31), date(2026, 11, 1), date(2026, 11, 2)):
        new_claim(session, world, day=day)
    with pytest.raises(CapExceeded):
        new_claim(session, world, day=date(2026, 10, 15))
