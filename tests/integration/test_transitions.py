"""The guarded transition: a compare-and-set that refuses a claim that moved on."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from credits.models import AuditEvent, ClaimState
from credits.transitions import ClaimMoved, TransitionNotAllowed, move
from tests.conftest import NOW, new_claim


def test_move_changes_state_and_audits_once(session, world) -> None:
    claim = new_claim(session, world)
    left = move(
        session,
        claim,
        to=ClaimState.REJECTED,
        action="claim.reject",
        actor=world.users["reviewer"],
        now=NOW,
        values={"reject_reason": "重复申报"},
    )
    session.commit()
    session.expire_all()
    assert left == ClaimState.RECORDED
    assert claim.state == ClaimState.REJECTED and claim.reject_reason == "重复申报"
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "claim.reject")).all()
    assert [(e.before, e.after["state"]) for e in events] == [({"state": "recorded"}, "rejected")]


def test_move_refuses_a_claim_that_moved_on_and_writes_nothing(session, world) -> None:
    claim = new_claim(session, world)
    reviewer = world.users["reviewer"]
    move(session, claim, to=ClaimState.REJECTED, action="claim.reject", actor=reviewer, now=NOW)
    session.commit()
    with pytest.raises(ClaimMoved) as refused:
        move(
            session,
            claim,
            to=ClaimState.NOTICED,
            action="claim.approve",
            actor=reviewer,
            now=NOW,
            expect=ClaimState.RECORDED,
        )
    session.rollback()
    assert refused.value.status == 409
    assert "驳回" in refused.value.translated() or "rejected" in str(refused.value)
    session.expire_all()
    assert claim.state == ClaimState.REJECTED
    assert session.scalar(select(AuditEvent.id).where(AuditEvent.action == "claim.approve")) is None


def test_move_refuses_a_move_the_table_does_not_allow(session, world) -> None:
    claim = new_claim(session, world)
    with pytest.raises(TransitionNotAllowed):
        move(
            session,
            claim,
            to=ClaimState.POSTED,
            action="claim.post",
            actor=None,
            now=NOW,
            expect=ClaimState.RECORDED,
        )
