"""Corrections (更正) are claims: two people, recusal, the public notice, then a reversal."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import NOW, correct_entry, new_claim
from sqlalchemy import func, select

from credits.errors import (
    AlreadyReversed,
    FourEyesError,
    InvalidState,
    PermissionDenied,
    RecusalError,
    ValidationError,
)
from credits.ledger import verify
from credits.models import Claim, ClaimKind, ClaimState, EntryKind, LedgerEntry
from credits.notice import public_notice
from credits.objections import raise_objection, resolve_objection
from credits.passbook import notices
from credits.workflow import (
    CorrectionPending,
    approve_claim,
    post_due,
    propose_correction,
    reject_claim,
)

LATER = NOW + timedelta(days=8)


def posted(session, world, household: int = 0, rule: str = "JY01", note: str = "") -> LedgerEntry:
    claim = new_claim(
        session, world, household=household, rule=rule, note=note, approve_by="reviewer"
    )
    post_due(session, now=LATER)
    return session.scalar(select(LedgerEntry).where(LedgerEntry.claim_id == claim.id))


def entries(session) -> int:
    session.rollback()
    return session.scalar(select(func.count(LedgerEntry.id)))


def test_a_correction_needs_a_second_person_and_its_notice_before_it_posts(session, world):
    entry = posted(session, world)
    correction = propose_correction(
        session, actor=world.users["admin"], entry_id=entry.id, reason="记错了户", now=LATER
    )
    assert (correction.kind, correction.state, correction.points) == (
        ClaimKind.CORRECTION,
        ClaimState.RECORDED,
        -5,
    )
    assert entries(session) == 1
    with pytest.raises(FourEyesError) as refused:
        approve_claim(session, actor=world.users["admin"], claim_id=correction.id, now=LATER)
    session.rollback()
    assert "另一位评议人" in refused.value.translated()
    approve_claim(session, actor=world.users["reviewer"], claim_id=correction.id, now=LATER)
    assert correction.state == ClaimState.NOTICED
    # On notice: the board and the passbook show it as a correction with its reason.
    board = public_notice(session, world.village.id, now=LATER + timedelta(days=1))
    assert [(i.is_correction, i.points, i.reason) for i in board.items] == [(True, -5, "记错了户")]
    lines = notices(session, world.households[0])
    assert [(n.is_correction, n.points, n.reason) for n in lines] == [(True, -5, "记错了户")]
    assert post_due(session, now=LATER + timedelta(days=6)) == 0
    assert entries(session) == 1
    assert post_due(session, now=LATER + timedelta(days=8)) == 1
    reversal = session.scalar(select(LedgerEntry).where(LedgerEntry.reverses_id == entry.id))
    assert (reversal.kind, reversal.points, reversal.reason, reversal.claim_id) == (
        EntryKind.REVERSAL,
        -5,
        "记错了户",
        correction.id,
    )
    assert (reversal.recorded_by_id, reversal.approved_by_id) == (
        world.users["admin"].id,
        world.users["reviewer"].id,
    )
    assert verify(session).ok


def test_who_may_propose_and_decide_a_correction(session, world):
    entry = posted(session, world, household=2)
    for user, error in (("cashier", PermissionDenied), ("reviewer2", RecusalError)):
        with pytest.raises(error):
            propose_correction(session, actor=world.users[user], entry_id=entry.id, reason="错")
        session.rollback()
    correction = propose_correction(
        session, actor=world.users["reviewer"], entry_id=entry.id, reason="错"
    )
    with pytest.raises(RecusalError):  # reviewer2 lives in household 2
        approve_claim(session, actor=world.users["reviewer2"], claim_id=correction.id, now=LATER)
    session.rollback()
    with pytest.raises(PermissionDenied):  # a clerk may propose, not decide
        approve_claim(session, actor=world.users["clerk"], claim_id=correction.id, now=LATER)
    session.rollback()
    assert session.get(Claim, correction.id, populate_existing=True).state == ClaimState.RECORDED


@pytest.mark.parametrize("reason", ["", "   ", "错" * 501, "错\x00"])
def test_a_correction_needs_a_reason_that_can_be_stored(session, world, reason):
    entry = posted(session, world)
    with pytest.raises(ValidationError) as refused:
        propose_correction(session, actor=world.users["reviewer"], entry_id=entry.id, reason=reason)
    session.rollback()
    assert refused.value.translated() != refused.value.message
    assert session.scalar(select(func.count(Claim.id)).where(Claim.kind == "correction")) == 0


def test_one_live_correction_per_entry_and_none_of_a_reversal(session, world):
    entry = posted(session, world)
    first = propose_correction(session, actor=world.users["clerk"], entry_id=entry.id, reason="错")
    with pytest.raises(CorrectionPending):
        propose_correction(session, actor=world.users["reviewer"], entry_id=entry.id, reason="错")
    session.rollback()
    # A rejected correction leaves the entry open to a new one.
    reject_claim(
        session, actor=world.users["reviewer"], claim_id=first.id, reason="没错", now=LATER
    )
    reversal = correct_entry(session, world, entry.id, "确实错了", proposer="clerk", now=LATER)
    with pytest.raises(AlreadyReversed):
        propose_correction(session, actor=world.users["clerk"], entry_id=entry.id, reason="再改")
    session.rollback()
    with pytest.raises(InvalidState):
        propose_correction(session, actor=world.users["clerk"], entry_id=reversal.id, reason="改")
    session.rollback()
    assert verify(session).ok


def test_an_upheld_objection_stops_a_correction(session, world):
    entry = posted(session, world)
    correction = propose_correction(
        session, actor=world.users["clerk"], entry_id=entry.id, reason="错", now=LATER
    )
    approve_claim(session, actor=world.users["reviewer"], claim_id=correction.id, now=LATER)
    objection = raise_objection(
        session,
        claim_id=correction.id,
        name="张建华",
        contact="",
        reason="这分是对的",
        now=LATER + timedelta(days=1),
    )
    resolve_objection(
        session,
        actor=world.users["admin"],
        objection_id=objection.id,
        uphold=True,
        reason="核实无误",
        now=LATER + timedelta(days=2),
    )
    assert post_due(session, now=LATER + timedelta(days=30)) == 0
    assert session.get(Claim, correction.id, populate_existing=True).state == ClaimState.WITHDRAWN
    assert entries(session) == 1


def test_a_correction_of_a_deduction_gives_points_back_without_a_cap(session, world):
    world.scheme.notice_days = 0
    session.commit()
    entry = posted(session, world, rule="KF03", note="乱倒垃圾")
    reversal = correct_entry(session, world, entry.id, "不是他家倒的")
    assert (entry.points, reversal.points, reversal.balance_delta) == (-10, 10, 10)
    # A correction uses no cap: the same rule can still be recorded as often as before.
    new_claim(session, world, rule="XL01")
    new_claim(session, world, rule="XL01")
    assert verify(session).ok
