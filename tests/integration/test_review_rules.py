"""Four-eyes and recusal (回避), and bad input refused in Chinese without changing anything."""

from __future__ import annotations

import ast
import inspect
import re
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import NOW, PASSWORD, new_claim
from sqlalchemy import func, select

from credits import workflow
from credits.errors import DomainError, FourEyesError, RecusalError, ValidationError
from credits.i18n import gettext
from credits.models import (
    AuditEvent,
    Balance,
    Claim,
    ClaimState,
    LedgerEntry,
    PeriodTotal,
    Role,
)
from credits.users import create_user
from credits.workflow import ClaimInput, approve_claim, post_due, record_claim, reject_claim

CJK = re.compile(r"[\u4e00-\u9fff]")
ROOT = Path(__file__).resolve().parents[2]


def counts(session):
    """Rows of every table a refused action could have touched."""
    session.rollback()
    return {
        model.__tablename__: session.scalar(select(func.count()).select_from(model))
        for model in (Claim, LedgerEntry, AuditEvent, Balance, PeriodTotal)
    }


def assert_refused_in_chinese(excinfo, *words):
    text = excinfo.value.translated("zh_CN")
    assert CJK.search(text), f"not translated: {text!r}"
    assert text != excinfo.value.message
    for word in words:
        assert word in text, text


def claim_input(world, *, household=0, rule="XL01", note="", day=None, member_id=None):
    return ClaimInput(
        household_id=world.households[household].id,
        rule_id=world.rule(rule).id,
        deed_date=day or NOW.date(),
        idempotency_key=uuid.uuid4().hex,
        member_id=member_id,
        note=note,
    )


def test_recorder_cannot_approve_own_claim(session, world):
    # The village admin may both record and review, but never the same claim.
    claim = new_claim(session, world, clerk="admin")
    before = counts(session)
    with pytest.raises(FourEyesError) as excinfo:
        approve_claim(session, actor=world.users["admin"], claim_id=claim.id, now=NOW)
    assert_refused_in_chinese(excinfo, "录入人")
    assert counts(session) == before
    assert session.get(Claim, claim.id, populate_existing=True).state == ClaimState.RECORDED
    # Another reviewer may approve it.
    approve_claim(session, actor=world.users["reviewer"], claim_id=claim.id, now=NOW)
    assert session.get(Claim, claim.id).state == ClaimState.NOTICED


def test_reviewer_linked_to_the_household_cannot_approve_reject_or_reverse(session, world):
    reviewer2 = world.users["reviewer2"]  # lives in household 2
    own = new_claim(session, world, household=2)
    before = counts(session)
    with pytest.raises(RecusalError) as excinfo:
        approve_claim(session, actor=reviewer2, claim_id=own.id, now=NOW)
    assert_refused_in_chinese(excinfo, "回避")
    with pytest.raises(RecusalError):
        reject_claim(session, actor=reviewer2, claim_id=own.id, reason="不实", now=NOW)
    assert counts(session) == before
    assert session.get(Claim, own.id, populate_existing=True).state == ClaimState.RECORDED

    # Posted by another reviewer; reviewer2 still may not reverse it.
    approve_claim(session, actor=world.users["reviewer"], claim_id=own.id, now=NOW)
    post_due(session, now=NOW + timedelta(days=8))
    entry = session.scalar(select(LedgerEntry).where(LedgerEntry.claim_id == own.id))
    before = counts(session)
    with pytest.raises(RecusalError):
        workflow.propose_correction(session, actor=reviewer2, entry_id=entry.id, reason="录错了")
    assert counts(session) == before

    # The refusal is about the household: reviewer2 reviews other households normally.
    other = new_claim(session, world, household=0)
    approve_claim(session, actor=reviewer2, claim_id=other.id, now=NOW)
    assert session.get(Claim, other.id).state == ClaimState.NOTICED


def test_clerk_linked_to_the_household_cannot_record_for_it(session, world):
    clerk3 = create_user(
        session,
        username="va-clerk3",
        password=PASSWORD,
        role=Role.CLERK,
        village_id=world.village.id,
        household_id=world.households[0].id,
    )
    before = counts(session)
    with pytest.raises(RecusalError) as excinfo:
        record_claim(session, actor=clerk3, data=claim_input(world, household=0), now=NOW)
    assert_refused_in_chinese(excinfo, "回避")
    assert counts(session) == before
    claim = record_claim(session, actor=clerk3, data=claim_input(world, household=1), now=NOW)
    assert claim.state == ClaimState.RECORDED


def test_no_role_or_parameter_overrides_recusal_or_four_eyes(session, world):
    # A village admin living in household 0 is bound like anyone else.
    admin2 = create_user(
        session,
        username="va-admin2",
        password=PASSWORD,
        role=Role.VILLAGE_ADMIN,
        village_id=world.village.id,
        household_id=world.households[0].id,
    )
    claim = new_claim(session, world, household=0)
    before = counts(session)
    with pytest.raises(RecusalError):
        record_claim(session, actor=admin2, data=claim_input(world, household=0), now=NOW)
    with pytest.raises(RecusalError):
        approve_claim(session, actor=admin2, claim_id=claim.id, now=NOW)
    with pytest.raises(RecusalError):
        reject_claim(session, actor=admin2, claim_id=claim.id, reason="不实", now=NOW)
    assert counts(session) == before
    for service in (
        workflow.record_claim,
        workflow.approve_claim,
        workflow.reject_claim,
        workflow.propose_correction,
    ):
        names = set(inspect.signature(service).parameters)
        assert not names & {"override", "force", "skip_checks", "sudo", "bypass"}, service


def test_deduction_without_a_note_is_refused(session, world):
    before = counts(session)
    for note in ("", "   \n"):
        with pytest.raises(ValidationError) as excinfo:
            record_claim(
                session,
                actor=world.users["clerk"],
                data=claim_input(world, rule="KF03", note=note),
                now=NOW,
            )
        assert_refused_in_chinese(excinfo, "备注")
    assert counts(session) == before
    claim = record_claim(
        session,
        actor=world.users["clerk"],
        data=claim_input(world, rule="KF03", note="乱倒垃圾"),
        now=NOW,
    )
    assert claim.points == -10


def test_deed_date_in_the_future_is_refused(session, world):
    before = counts(session)
    for days in (2, 30, 400):
        with pytest.raises(ValidationError) as excinfo:
            record_claim(
                session,
                actor=world.users["clerk"],
                data=claim_input(world, day=NOW.date() + timedelta(days=days)),
                now=NOW,
            )
        assert_refused_in_chinese(excinfo, "日期")
    assert counts(session) == before
    assert record_claim(
        session, actor=world.users["clerk"], data=claim_input(world, day=NOW.date()), now=NOW
    ).id


def test_member_of_another_household_is_refused(session, world):
    stranger = world.households[1].members[0]
    before = counts(session)
    with pytest.raises(ValidationError) as excinfo:
        record_claim(
            session,
            actor=world.users["clerk"],
            data=claim_input(world, household=0, member_id=stranger.id),
            now=NOW,
        )
    assert_refused_in_chinese(excinfo, "成员")
    assert counts(session) == before
    own = world.households[0].members[1]
    claim = record_claim(
        session,
        actor=world.users["clerk"],
        data=claim_input(world, household=0, member_id=own.id),
        now=NOW,
    )
    assert claim.member_id == own.id


def _domain_msgids():
    """Every N_("...") literal in credits/, with the file it is in."""
    found: dict[str, str] = {}
    for path in sorted((ROOT / "credits").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "N_"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                found.setdefault(node.args[0].value, str(path.relative_to(ROOT)))
    return found


def test_every_domain_message_has_a_chinese_translation():
    msgids = _domain_msgids()
    assert "The input is not valid." in msgids
    assert {cls.message for cls in DomainError.__subclasses__()} <= set(msgids)
    missing = [
        f"{where}: {msgid!r}"
        for msgid, where in msgids.items()
        if not CJK.search(gettext(msgid, "zh_CN"))
    ]
    assert not missing, "add these to translations/zh_CN/LC_MESSAGES/messages.po:\n" + "\n".join(
        missing
    )
