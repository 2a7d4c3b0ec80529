"""Balances equal the sums of their entries after any sequence of actions (DESIGN.md §4.1).

Hypothesis draws sequences of record / approve / reject / withdraw / post_due (with a
clock moving forward) / reverse, by the right and the wrong users, over a fresh village
per example. A small model in this file predicts every outcome (including refusals) and
every ledger entry; after each step the database must match the model, and after the
sequence `verify` must pass and every cached balance must equal the sum of its entries.
"""

from __future__ import annotations

import itertools
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pytest
from conftest import NOW, build_village, correct_entry, new_claim
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from credits.errors import (
    AlreadyReversed,
    CapExceeded,
    FourEyesError,
    InvalidState,
    PermissionDenied,
    RecusalError,
    ValidationError,
)
from credits.ledger import verify
from credits.models import Account, Balance, Claim, ClaimState, LedgerEntry, PeriodTotal
from credits.workflow import (
    ClaimInput,
    approve_claim,
    post_due,
    propose_correction,
    record_claim,
    reject_claim,
    withdraw_claim,
)

# Rules of the merit-bank preset without required evidence: (points, cap_month, cap_year).
RULES = {
    "XL01": (10, 20, None),
    "XL04": (5, None, 20),
    "HJ05": (3, 3, None),
    "JY01": (5, None, None),
    "KF03": (-10, None, None),
}
# Repeats weight the draw towards actions that succeed, so ledgers grow.
RECORDERS = ["clerk", "clerk", "clerk2", "admin", "reviewer"]  # a reviewer may not record
REVIEWERS = ["reviewer", "reviewer", "reviewer2", "admin", "clerk"]  # reviewer2: household 2
LINKED = {"reviewer2": 2}
MAY_RECORD = {"clerk", "clerk2", "admin"}
MAY_REVIEW = {"reviewer", "reviewer2", "admin"}
LIVE = {ClaimState.RECORDED, ClaimState.NOTICED, ClaimState.POSTED}


@dataclass
class Record:
    household: int
    rule: str
    recorder: str
    days_ago: int
    note: bool


@dataclass
class Approve:
    pick: int
    reviewer: str
    fresh: bool  # pick among the targets still open to it (else among all)


@dataclass
class Reject:
    pick: int
    reviewer: str
    fresh: bool  # pick among the targets still open to it (else among all)


@dataclass
class Withdraw:
    pick: int
    actor: str
    fresh: bool


@dataclass
class PostDue:
    hours: int


@dataclass
class Reverse:
    pick: int
    reviewer: str
    fresh: bool  # pick among the targets still open to it (else among all)


picks = st.integers(0, 99)
fresh = st.sampled_from([True, True, True, False])
records = st.builds(
    Record,
    household=st.integers(0, 2),
    rule=st.sampled_from(sorted(RULES)),
    recorder=st.sampled_from(RECORDERS),
    days_ago=st.integers(0, 45),
    note=st.sampled_from([True, True, True, False]),
)
# Hours the clock moves before post_due: within a day, about a notice period, or more.
posts = st.builds(
    PostDue, hours=st.one_of(st.integers(1, 24), st.integers(7 * 24 - 2, 7 * 24 + 2), st.just(200))
)
approvals = st.builds(Approve, pick=picks, reviewer=st.sampled_from(REVIEWERS), fresh=fresh)
actions = st.one_of(
    records,
    records,
    approvals,
    approvals,
    st.builds(Reject, pick=picks, reviewer=st.sampled_from(REVIEWERS), fresh=fresh),
    st.builds(Withdraw, pick=picks, actor=st.sampled_from(["clerk", "admin"]), fresh=fresh),
    posts,
    posts,
    st.builds(Reverse, pick=picks, reviewer=st.sampled_from(REVIEWERS), fresh=fresh),
)


@dataclass
class MClaim:
    id: int
    household: int
    rule: str
    points: int
    deed: date
    recorder: str
    state: str = ClaimState.RECORDED
    notice_until: datetime | None = None


@dataclass
class MEntry:
    household: int
    points: int
    kind: str
    period: int
    claim_id: int | None
    reverses: int | None = None  # index into Model.entries
    reversed: bool = False
    db_id: int | None = None


@dataclass
class Model:
    """What the ledger must look like, computed without the code under test."""

    notice_days: int
    now: datetime = NOW
    claims: list[MClaim] = field(default_factory=list)
    entries: list[MEntry] = field(default_factory=list)

    def used(self, household: int, rule: str, deed: date) -> tuple[int, int]:
        """Points of live claims under a rule in the deed's month and year.

        A posted claim whose entry was reversed no longer counts (its points, and its
        share of the cap, were given back).
        """
        reversed_claims = {e.claim_id for e in self.entries if e.reversed}
        same = [
            c
            for c in self.claims
            if c.household == household
            and c.rule == rule
            and c.state in LIVE
            and c.id not in reversed_claims
        ]
        month = sum(abs(c.points) for c in same if period_of(c.deed) == period_of(deed))
        year = sum(abs(c.points) for c in same if c.deed.year == deed.year)
        return month, year

    def post(self, claim: MClaim) -> None:
        claim.state = ClaimState.POSTED
        kind = "deduction" if claim.points < 0 else "award"
        self.entries.append(
            MEntry(claim.household, claim.points, kind, period_of(claim.deed), claim.id)
        )

    def sums(self) -> dict[int, int]:
        totals: dict[int, int] = defaultdict(int)
        for e in self.entries:
            totals[e.household] += e.points
        return totals


_codes = itertools.count(1)


def period_of(day: date) -> int:
    return day.year * 100 + day.month


def over_cap(points: int, cap_month: int | None, cap_year: int | None, used: tuple[int, int]):
    month, year = used
    return (cap_month is not None and month + abs(points) > cap_month) or (
        cap_year is not None and year + abs(points) > cap_year
    )


def expect(exc_type, call, session):
    """Run an action the model says must be refused; nothing may change."""
    with pytest.raises(exc_type):
        call()
    session.rollback()
    event(f"refused: {exc_type.__name__}")


def step(session, world, model: Model, action) -> None:
    users = world.users
    if isinstance(action, Record):
        points, cap_month, cap_year = RULES[action.rule]
        deed = model.now.date() - timedelta(days=action.days_ago)
        data = ClaimInput(
            household_id=world.households[action.household].id,
            rule_id=world.rule(action.rule).id,
            deed_date=deed,
            idempotency_key=uuid.uuid4().hex,
            note="扶老人过马路" if action.note else "",
        )

        def call():
            return record_claim(session, actor=users[action.recorder], data=data, now=model.now)

        if action.recorder not in MAY_RECORD:
            return expect(PermissionDenied, call, session)
        if points < 0 and not action.note:
            return expect(ValidationError, call, session)
        if over_cap(points, cap_month, cap_year, model.used(action.household, action.rule, deed)):
            return expect(CapExceeded, call, session)
        claim = call()
        model.claims.append(
            MClaim(claim.id, action.household, action.rule, points, deed, action.recorder)
        )
        return None

    if isinstance(action, Approve | Reject | Withdraw):
        pool = model.claims
        if action.fresh:
            pool = [c for c in pool if c.state == ClaimState.RECORDED] or pool
        if not pool:
            return None
        target = pool[action.pick % len(pool)]
        if isinstance(action, Withdraw):

            def withdraw():
                return withdraw_claim(
                    session, actor=users[action.actor], claim_id=target.id, now=model.now
                )

            if action.actor != target.recorder or target.state != ClaimState.RECORDED:
                return expect(InvalidState, withdraw, session)
            withdraw()
            target.state = ClaimState.WITHDRAWN
            return None
        actor = users[action.reviewer]
        if isinstance(action, Approve):

            def review():
                return approve_claim(session, actor=actor, claim_id=target.id, now=model.now)
        else:

            def review():
                return reject_claim(
                    session, actor=actor, claim_id=target.id, reason="不属实", now=model.now
                )

        if action.reviewer not in MAY_REVIEW:
            return expect(PermissionDenied, review, session)
        if LINKED.get(action.reviewer) == target.household:
            return expect(RecusalError, review, session)
        if isinstance(action, Approve) and action.reviewer == target.recorder:
            return expect(FourEyesError, review, session)
        if target.state != ClaimState.RECORDED:
            return expect(InvalidState, review, session)
        review()
        if isinstance(action, Reject):
            target.state = ClaimState.REJECTED
            return None
        target.state = ClaimState.NOTICED
        target.notice_until = model.now + timedelta(days=model.notice_days)
        if model.notice_days == 0:
            model.post(target)
        return None

    if isinstance(action, PostDue):
        model.now += timedelta(hours=action.hours)
        due = sorted(
            (
                c
                for c in model.claims
                if c.state == ClaimState.NOTICED and c.notice_until <= model.now
            ),
            key=lambda c: (c.notice_until, c.id),
        )
        assert post_due(session, now=model.now, village_id=world.village.id) == len(due)
        for claim in due:
            model.post(claim)
        return None

    if isinstance(action, Reverse):
        pool = list(range(len(model.entries)))
        if action.fresh:
            open_ = [i for i in pool if model.entries[i].kind != "reversal"]
            pool = [i for i in open_ if not model.entries[i].reversed] or pool
        if not pool:
            return None
        index = pool[action.pick % len(pool)]
        target_entry = model.entries[index]

        def reverse():
            # A correction: proposed, approved by a second reviewer, posted after its notice.
            second = "admin" if action.reviewer != "admin" else "reviewer"
            return correct_entry(
                session,
                world,
                target_entry.db_id,
                "记错了",
                proposer=action.reviewer,
                approver=second,
                now=model.now,
            )

        if action.reviewer not in MAY_REVIEW | MAY_RECORD:
            return expect(PermissionDenied, reverse, session)
        if LINKED.get(action.reviewer) == target_entry.household:
            return expect(RecusalError, reverse, session)
        if target_entry.kind == "reversal":
            return expect(InvalidState, reverse, session)
        if target_entry.reversed:
            return expect(AlreadyReversed, reverse, session)
        reversal = reverse()
        target_entry.reversed = True
        model.entries.append(
            MEntry(
                target_entry.household,
                -target_entry.points,
                "reversal",
                target_entry.period,
                reversal.claim_id,  # the correction claim it was posted from
                reverses=index,
            )
        )
        return None
    raise AssertionError(action)


def check_entries(session, world, model: Model) -> None:
    """The village's chain holds exactly the model's entries, in order."""
    session.rollback()
    rows = session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.village_id == world.village.id)
        .order_by(LedgerEntry.seq)
        .execution_options(populate_existing=True)
    ).all()
    homes = {h.id: i for i, h in enumerate(world.households)}
    have = [
        (homes[r.household_id], r.points, r.kind, r.period, r.claim_id, r.reverses_id) for r in rows
    ]
    for entry, row in zip(model.entries, rows, strict=False):
        entry.db_id = entry.db_id or row.id
    want = [
        (
            e.household,
            e.points,
            e.kind,
            e.period,
            e.claim_id,
            model.entries[e.reverses].db_id if e.reverses is not None else None,
        )
        for e in model.entries
    ]
    assert have == want
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))


def check_totals(session, world, model: Model) -> None:
    """Every cached balance and period total equals the sum of its entries and the model."""
    session.rollback()
    report = verify(session)
    assert report.ok, report.problems
    accounts = session.scalars(select(Account).where(Account.village_id == world.village.id)).all()
    homes = {h.id: i for i, h in enumerate(world.households)}
    want = model.sums()
    for account in accounts:
        entries = session.scalars(
            select(LedgerEntry).where(LedgerEntry.account_id == account.id)
        ).all()
        balance = session.get(Balance, account.id, populate_existing=True)
        score = balance.score if balance else 0
        spendable = balance.balance if balance else 0
        assert score == sum(e.score_delta for e in entries)
        assert spendable == sum(e.balance_delta for e in entries)
        assert score == spendable == want.get(homes[account.household_id], 0)
        periods: dict[tuple[int, str], int] = defaultdict(int)
        for e in entries:
            periods[(e.period, e.category)] += e.score_delta
        cached = {
            (t.period, t.category): t.score
            for t in session.scalars(
                select(PeriodTotal)
                .where(PeriodTotal.account_id == account.id)
                .execution_options(populate_existing=True)
            )
        }
        assert {k: v for k, v in cached.items() if v} == {k: v for k, v in periods.items() if v}
    states = {
        c.id: c.state
        for c in session.scalars(
            select(Claim).where(Claim.village_id == world.village.id, Claim.kind == "deed")
        )
    }
    assert states == {c.id: c.state for c in model.claims}


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(notice_days=st.sampled_from([0, 7]), script=st.lists(actions, min_size=10, max_size=40))
# One fixed example walks through every outcome, whatever the random draw brings.
@example(
    notice_days=7,
    script=[
        Record(0, "XL01", "admin", 0, True),  # claim 0
        Approve(0, "admin", True),  # four eyes: admin recorded it
        Approve(0, "clerk", True),  # a clerk does not review
        Record(2, "XL01", "clerk", 1, True),  # claim 1
        Approve(1, "reviewer2", False),  # recusal: reviewer2 lives in household 2
        Approve(0, "reviewer", True),  # claim 0 noticed
        Approve(0, "reviewer", True),  # claim 1 noticed
        Approve(0, "reviewer", False),  # claim 0 again: no longer waiting
        Record(0, "XL01", "clerk", 2, True),  # claim 2: the cap of 20 is now full
        Record(0, "XL01", "clerk", 3, True),  # over the monthly cap
        Record(1, "KF03", "clerk2", 0, False),  # a deduction needs a note
        Record(1, "KF03", "clerk2", 0, True),  # claim 3
        Withdraw(0, "clerk", False),  # claim 0 is not the clerk's
        Reject(0, "reviewer", True),  # claim 2 rejected
        Approve(0, "reviewer", True),  # claim 3 noticed
        PostDue(7 * 24 - 1),  # nothing due yet
        PostDue(1),  # the notice ends exactly now: claims 0, 1, 3 posted
        Reverse(0, "reviewer", True),  # entry 0 reversed
        Reverse(0, "admin", False),  # already reversed
        Reverse(3, "admin", False),  # a reversal cannot be reversed
        Reverse(1, "reviewer2", False),  # recusal
        Record(1, "HJ05", "clerk", 40, True),  # claim 4, last month
        Withdraw(1, "clerk", True),  # claim 4 withdrawn by its recorder
    ],
)
@example(
    notice_days=0,  # approval posts at once
    script=[
        *[Record(1, "XL04", "clerk", days, True) for days in (0, 1, 2, 3, 4)],  # 5th: year cap
        *[Approve(0, "reviewer", True) for _ in range(4)],
        Reverse(0, "reviewer", True),
        Record(1, "XL04", "clerk", 5, True),  # the reversed claim freed its share of the cap
        Record(0, "KF03", "admin", 0, True),
        Approve(0, "reviewer", True),
    ],
)
def test_balances_equal_sums_after_any_sequence(session, notice_days, script):
    # A fresh village per example; earlier examples' villages stay and must keep verifying.
    session.rollback()
    code = f"HP{next(_codes)}"
    world = build_village(session, code, f"{code}村")
    world.scheme.notice_days = notice_days
    session.commit()
    model = Model(notice_days=notice_days)
    for action in script:
        step(session, world, model, action)
        check_entries(session, world, model)
    check_totals(session, world, model)
    event(f"entries: {min(len(model.entries), 10)}{'+' if len(model.entries) >= 10 else ''}")
    event(f"claims: {min(len(model.claims), 10)}")
    event(f"actions: {len(script) // 10 * 10}+")
    event(f"reversals: {sum(e.kind == 'reversal' for e in model.entries) > 0}")


def test_an_entry_is_reversed_at_most_once(session, world):
    claim = new_claim(session, world, rule="JY01", approve_by="reviewer")
    post_due(session, now=NOW + timedelta(days=8))
    entry = session.scalar(select(LedgerEntry).where(LedgerEntry.claim_id == claim.id))
    reversal = correct_entry(session, world, entry.id, "错", now=NOW + timedelta(days=8))
    for target in (entry.id, reversal.id):
        with pytest.raises((AlreadyReversed, InvalidState)) as excinfo:
            propose_correction(session, actor=world.users["admin"], entry_id=target, reason="再冲")
        assert "冲正" in excinfo.value.translated("zh_CN")
        session.rollback()
    assert (
        session.scalar(select(LedgerEntry.id).where(LedgerEntry.reverses_id == reversal.id)) is None
    )
    rows = session.scalars(select(LedgerEntry).order_by(LedgerEntry.seq)).all()
    assert [(r.points, r.reverses_id) for r in rows] == [(5, None), (-5, entry.id)]
    assert verify(session).ok
    assert session.get(Balance, entry.account_id, populate_existing=True).score == 0
