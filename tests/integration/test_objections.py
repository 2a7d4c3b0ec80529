"""Objections that cannot be abused: one per objector, none after a dismissal, reopening,
decisions that race, and outcomes that are published."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from conftest import NOW, new_claim
from sqlalchemy import func, select

from credits import notice, objections
from credits.errors import (
    DomainError,
    FourEyesError,
    PermissionDenied,
    RecusalError,
    ValidationError,
)
from credits.ledger import verify
from credits.models import (
    AuditEvent,
    Claim,
    ClaimState,
    LedgerEntry,
    Objection,
    ObjectionState,
    User,
)
from credits.objections import AlreadyDecided, AlreadyObjecting, ObjectionMoved
from credits.passbook import passbook
from credits.transitions import ClaimMoved
from credits.workflow import post_due

END = NOW + timedelta(days=7)  # the merit bank's notice lasts seven days


def count(session, model) -> int:
    return session.scalar(select(func.count(model.id)))


def object_to(session, claim, *, name="王大伯", contact="138-0000-1111", reason="不属实。", **kw):
    kw.setdefault("ip", "10.0.0.1")
    kw.setdefault("now", NOW)
    return objections.raise_objection(
        session, claim_id=claim.id, name=name, contact=contact, reason=reason, **kw
    )


def decide(
    session, world, objection, *, uphold, reason="核实属实，异议不成立。", now=NOW, by="reviewer"
):
    return objections.resolve_objection(
        session,
        actor=world.users[by],
        objection_id=objection.id,
        uphold=uphold,
        reason=reason,
        now=now,
    )


def dismissed_claim(session, world, *, now=NOW + timedelta(days=1)):
    claim = new_claim(session, world, approve_by="reviewer")
    objection = object_to(session, claim)
    decide(session, world, objection, uphold=False, now=now)
    return claim, objection


# ---- one objection per objector, none after a dismissal -------------------------------


def test_a_new_objection_after_a_dismissal_is_refused_and_changes_nothing(session, world):
    claim, _ = dismissed_claim(session, world)
    events = count(session, AuditEvent)
    with pytest.raises(AlreadyDecided) as refused:
        object_to(session, claim, name="李婶", contact="", reason="我还是觉得不对。", ip="10.0.0.7")
    assert refused.value.status == 409
    message = refused.value.translated()
    assert "已对这条公示的异议作出处理" in message and "联系村务监督委员会" in message
    with pytest.raises(AlreadyDecided):
        objections.record_paper_objection(
            session,
            actor=world.users["clerk"],
            claim_id=claim.id,
            name="李婶",
            contact="",
            reason="书面再提",
            now=NOW + timedelta(days=2),
        )
    assert count(session, Objection) == 1
    assert count(session, AuditEvent) == events
    # Nothing holds the claim: it posts when its notice ends.
    assert post_due(session, now=END) == 1
    assert session.get(Claim, claim.id, populate_existing=True).state == ClaimState.POSTED


def test_a_second_open_objection_by_the_same_objector_is_refused(session, world):
    claim = new_claim(session, world, approve_by="reviewer")
    first = object_to(session, claim)
    with pytest.raises(AlreadyObjecting) as refused:
        # The same person: other spacing, full-width digits, no dashes; another reason.
        object_to(
            session, claim, name=" 王 大伯", contact="１３８００００１１１１", reason="还有一事。"
        )
    assert refused.value.status == 409
    assert "已在村务监督委员会处理中" in refused.value.translated()
    assert count(session, Objection) == 1
    # A double tap is still the one objection, not a refusal.
    assert object_to(session, claim, now=NOW + timedelta(minutes=1)).id == first.id
    # Another person (another contact) is heard.
    object_to(session, claim, contact="13999990000", reason="还有一事。")
    assert count(session, Objection) == 2


def test_an_objector_may_object_again_to_another_claim(session, world):
    first = new_claim(session, world, approve_by="reviewer")
    second = new_claim(session, world, household=1, approve_by="reviewer")
    object_to(session, first)
    object_to(session, second)
    assert count(session, Objection) == 2


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (("王大伯", "138-0000-1111"), ("王大伯", "13800001111"), True),
        (("王大伯", "138 0000 1111"), ("王 大伯", "（138）00001111"), True),
        (("Wang", "a@b.cn"), ("WANG", "A@B.CN"), True),
        (("王大伯", ""), ("王大伯", "13800001111"), False),
        (("王大伯", "13800001111"), ("王二伯", "13800001111"), False),
    ],
)
def test_objector_key_ignores_spacing_width_and_case(a, b, same):
    assert (objections.objector_key(*a) == objections.objector_key(*b)) is same


# ---- reopening ----------------------------------------------------------------------


def test_a_reviewer_reopens_a_dismissal_and_the_claim_is_held_again(session, world):
    claim, objection = dismissed_claim(session, world)
    reopened = objections.reopen_objection(
        session,
        actor=world.users["reviewer2"],
        objection_id=objection.id,
        reason="村民代表提供了新的证人。",
        now=NOW + timedelta(days=2),
        ip="10.0.0.9",
    )
    assert reopened.state == ObjectionState.OPEN and reopened.resolution == ""
    assert post_due(session, now=END + timedelta(days=1)) == 0
    assert session.get(Claim, claim.id, populate_existing=True).state == ClaimState.NOTICED
    board = notice.public_notice(session, world.village.id, now=END + timedelta(days=1))
    assert [(i.claim_id, i.held) for i in board.items] == [(claim.id, True)]
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "objection.reopen"))
    assert event.actor_id == world.users["reviewer2"].id and event.ip == "10.0.0.9"
    assert event.before == {"state": "dismissed", "resolution": "核实属实，异议不成立。"}
    assert event.after["reason"] == "村民代表提供了新的证人。"
    # Decided again (upheld this time), the claim stops.
    decide(
        session, world, reopened, uphold=True, reason="新证据属实。", now=END + timedelta(days=2)
    )
    assert session.get(Claim, claim.id, populate_existing=True).state == ClaimState.WITHDRAWN


def test_reopening_after_the_notice_ended_holds_a_claim_not_yet_posted(session, world):
    claim, objection = dismissed_claim(session, world)
    objections.reopen_objection(
        session,
        actor=world.users["reviewer"],
        objection_id=objection.id,
        reason="复核",
        now=END + timedelta(minutes=1),  # post-due has not run yet
    )
    assert post_due(session, now=END + timedelta(minutes=2)) == 0


def test_reopening_needs_a_reason_and_a_reviewer_who_may_decide(session, world, other_world):
    claim = new_claim(session, world, household=2, clerk="admin", approve_by="reviewer")
    objection = object_to(session, claim)
    decide(session, world, objection, uphold=False, now=NOW + timedelta(days=1))
    refusals = [
        (world.users["clerk"], "复核", PermissionDenied),
        (other_world.users["reviewer"], "复核", PermissionDenied),
        (world.users["reviewer2"], "复核", RecusalError),  # lives in household 2
        (world.users["admin"], "复核", FourEyesError),  # recorded the claim
        (world.users["reviewer"], "   ", ValidationError),
    ]
    for actor, reason, error in refusals:
        with pytest.raises(error):
            objections.reopen_objection(
                session, actor=actor, objection_id=objection.id, reason=reason, now=NOW
            )
    assert session.get(Objection, objection.id, populate_existing=True).state == "dismissed"
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "objection.reopen")) is None


def test_a_posted_claim_or_an_open_objection_cannot_be_reopened(session, world):
    claim, objection = dismissed_claim(session, world)
    held = new_claim(session, world, household=1, approve_by="reviewer")
    still_open = object_to(session, held)
    with pytest.raises(ObjectionMoved) as refused:
        objections.reopen_objection(
            session, actor=world.users["reviewer"], objection_id=still_open.id, reason="复核"
        )
    assert refused.value.status == 409
    assert post_due(session, now=END) == 1
    with pytest.raises(ClaimMoved) as too_late:
        objections.reopen_objection(
            session, actor=world.users["reviewer"], objection_id=objection.id, reason="复核"
        )
    assert too_late.value.status == 409 and "已入账" in too_late.value.translated()
    assert session.get(Objection, objection.id, populate_existing=True).state == "dismissed"


# ---- decisions that race ------------------------------------------------------------


def race(session_factory, *calls):
    """Run each call in its own thread and session at the same moment; return outcomes."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(i, call):
        s = session_factory()
        try:
            barrier.wait()
            results[i] = call(s)
        except DomainError as exc:
            s.rollback()
            results[i] = exc
        except Exception as exc:  # noqa: BLE001 - a crash must show as a failure, not hang
            s.rollback()
            results[i] = exc
        finally:
            s.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


@pytest.mark.parametrize("after_notice", [False, True])
@pytest.mark.parametrize("repeat", range(3))
def test_uphold_and_dismiss_at_once_one_wins_the_other_is_told(
    session, session_factory, world, after_notice, repeat
):
    claim = new_claim(session, world, approve_by="reviewer")
    objection = object_to(session, claim)
    when = END + timedelta(hours=1) if after_notice else NOW + timedelta(days=1)
    ids = {name: world.users[name].id for name in ("reviewer", "reviewer2")}

    def deciding(by, uphold):
        def call(s):
            return objections.resolve_objection(
                s,
                actor=s.get(User, ids[by]),
                objection_id=objection.id,
                uphold=uphold,
                reason="成立" if uphold else "不成立",
                now=when,
            )

        return call

    results = race(session_factory, deciding("reviewer", True), deciding("reviewer2", False))
    won = [r for r in results if isinstance(r, Objection)]
    lost = [r for r in results if not isinstance(r, Objection)]
    assert len(won) == 1 and len(lost) == 1, results
    assert isinstance(lost[0], ObjectionMoved | ClaimMoved), lost
    assert lost[0].status == 409
    session.expire_all()
    decided = session.get(Objection, objection.id)
    state = session.get(Claim, claim.id).state
    entries = count(session, LedgerEntry)
    if decided.state == ObjectionState.UPHELD:
        assert (state, entries) == (ClaimState.WITHDRAWN, 0)
    else:
        assert decided.state == ObjectionState.DISMISSED
        expected = ClaimState.POSTED if after_notice else ClaimState.NOTICED
        assert (state, entries) == (expected, 1 if after_notice else 0)
    decisions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.action.like("objection.%"))
    ).all()
    assert sorted(decisions) == sorted(
        ["objection.raise", f"objection.{'uphold' if decided.state == 'upheld' else 'dismiss'}"]
    )
    assert verify(session).ok


def test_reopen_and_post_due_at_once_leave_a_consistent_claim(session, session_factory, world):
    claim, objection = dismissed_claim(session, world)
    reviewer_id = world.users["reviewer"].id

    def reopening(s):
        return objections.reopen_objection(
            s, actor=s.get(User, reviewer_id), objection_id=objection.id, reason="复核", now=END
        )

    results = race(session_factory, reopening, lambda s: post_due(s, now=END))
    crashed = [r for r in results if isinstance(r, Exception) and not isinstance(r, DomainError)]
    assert crashed == []
    session.expire_all()
    state = session.get(Claim, claim.id).state
    objection_state = session.get(Objection, objection.id).state
    if state == ClaimState.POSTED:
        assert objection_state == ObjectionState.DISMISSED
        assert isinstance(results[0], ClaimMoved)
    else:
        assert (state, objection_state) == (ClaimState.NOTICED, ObjectionState.OPEN)
        assert results[1] == 0
    assert verify(session).ok


# ---- published outcomes ---------------------------------------------------------------


def test_the_board_and_the_passbook_publish_each_outcome_with_its_reason(session, world):
    kept, _ = dismissed_claim(session, world)
    stopped = new_claim(session, world, household=0, rule="XL03", approve_by="reviewer")
    first = object_to(session, stopped, name="李婶", contact="", reason="没有这回事。")
    object_to(session, stopped, name="赵叔", contact="", reason="确实没有。")
    decide(
        session,
        world,
        first,
        uphold=True,
        reason="经核实，事迹不属实。",
        now=NOW + timedelta(days=2),
    )
    board = notice.public_notice(session, world.village.id, now=NOW + timedelta(days=3))
    item = next(i for i in board.items if i.claim_id == kept.id)
    assert [(o.state, o.reason) for o in item.outcomes] == [("dismissed", "核实属实，异议不成立。")]
    # Newest first; the two upheld objections are one decision.
    assert [
        (d.claim_id, d.outcome.state, d.outcome.reason, d.household) for d in board.decided
    ] == [
        (stopped.id, "upheld", "经核实，事迹不属实。", "张*华"),
        (kept.id, "dismissed", "核实属实，异议不成立。", "张*华"),
    ]
    text = repr(board)
    for secret in ("王大伯", "李婶", "赵叔", "138-0000-1111", "张建华"):
        assert secret not in text
    # A month on, the board has moved on; the household's passbook keeps them longer.
    later = NOW + timedelta(days=40)
    assert notice.public_notice(session, world.village.id, now=later).decided == []
    book = passbook(session, world.households[0], on=(NOW + timedelta(days=3)).date())
    assert [(d.claim_id, d.outcome.state) for d in book.outcomes] == [
        (stopped.id, "upheld"),
        (kept.id, "dismissed"),
    ]
    assert passbook(session, world.households[1], on=NOW.date()).outcomes == []


def test_staff_lists_show_the_objector_to_reviewers_only(session, world):
    claim = new_claim(session, world, approve_by="reviewer")
    object_to(session, claim)
    for role, shown in [("reviewer", True), ("admin", True), ("clerk", False), ("cashier", False)]:
        page = notice.staff_notice(session, world.village.id, now=NOW, viewer=world.users[role])
        [view] = page.open_objections
        assert (view.name, view.contact, page.show_objector) == (
            ("王大伯", "138-0000-1111", True) if shown else ("", "", False)
        )
        assert view.reason == "不属实。"


@pytest.mark.parametrize(
    ("name", "contact", "reason"),
    [("王\x00大伯", "", "不属实"), ("王大伯", "\x07", "不属实"), ("王大伯", "", "不\x00属实")],
)
def test_control_characters_are_refused_and_nothing_is_saved(session, world, name, contact, reason):
    claim = new_claim(session, world, approve_by="reviewer")
    with pytest.raises(ValidationError) as refused:
        objections.raise_objection(
            session, claim_id=claim.id, name=name, contact=contact, reason=reason, now=NOW
        )
    assert "控制字符" in refused.value.translated()
    assert count(session, Objection) == 0
    objection = object_to(session, claim)
    with pytest.raises(ValidationError):
        decide(session, world, objection, uphold=False, reason="不成立\x00")
    assert session.get(Objection, objection.id, populate_existing=True).state == "open"
