"""Public notice: the window, masked names, objections holding claims, decisions, corrections."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import NOW, correct_entry, new_claim
from sqlalchemy import func, select

from credits import entries, notice, objections, queries
from credits.errors import (
    FourEyesError,
    InvalidState,
    NotFound,
    PermissionDenied,
    RecusalError,
    ValidationError,
)
from credits.ledger import verify
from credits.models import (
    AuditEvent,
    Balance,
    Claim,
    ClaimState,
    LedgerEntry,
    Member,
    Objection,
    ObjectionState,
)
from credits.workflow import ClaimInput, approve_claim, post_due, record_claim

END = NOW + timedelta(days=7)  # the merit bank's notice lasts seven days


def objection_count(session) -> int:
    return session.scalar(select(func.count(Objection.id)))


def object_to(session, claim, *, name="王大伯", reason="那天他不在村里。", ip="10.0.0.1", now=NOW):
    return objections.raise_objection(
        session,
        claim_id=claim.id,
        name=name,
        contact="13800001111",
        reason=reason,
        ip=ip,
        now=now,
    )


def test_notice_lists_claims_in_their_window_with_masked_names(session, world):
    noticed = new_claim(session, world, approve_by="reviewer")
    new_claim(session, world, household=1)  # recorded, not yet approved: not on notice
    board = notice.public_notice(session, world.village.id, now=NOW + timedelta(hours=1))
    assert [i.claim_id for i in board.items] == [noticed.id]
    item = board.items[0]
    assert item.household == "张*华"
    assert item.house_number == "1号"
    assert item.group_name == "一组"
    assert item.points == 10
    assert item.rule_title == world.rule("XL01").title
    assert item.deed_date == NOW.date()
    assert item.notice_end == END
    assert not item.held
    assert board.window == (NOW, END)
    # When the window has closed, the claim is no longer on notice.
    assert notice.public_notice(session, world.village.id, now=END).items == []


def test_notice_shows_nothing_personal(session, world):
    home = world.households[2]
    home.phone = "13912345678"
    member = session.scalar(
        select(Member).where(Member.household_id == home.id, Member.name != home.head_name)
    )
    member.phone = "13700000000"
    session.commit()
    claim = record_claim(
        session,
        actor=world.users["clerk"],
        now=NOW,
        data=ClaimInput(
            household_id=home.id,
            rule_id=world.rule("XL01").id,
            deed_date=NOW.date(),
            idempotency_key="k-member",
            member_id=member.id,
        ),
    )
    approve_claim(session, actor=world.users["reviewer"], claim_id=claim.id, now=NOW)
    board = notice.public_notice(session, world.village.id, now=NOW)
    item = board.items[0]
    assert item.household == "欧阳*华"
    assert item.member == "欧*明"
    text = repr(board)
    for secret in ("欧阳明华", "欧小明", "13912345678", "13700000000"):
        assert secret not in text


def test_notice_filters_by_scheme_and_group(session, world, other_world):
    claim = new_claim(session, world, approve_by="reviewer")
    new_claim(session, other_world, approve_by="reviewer")
    group_id = world.households[0].group_id
    assert [
        i.claim_id
        for i in notice.public_notice(
            session, world.village.id, world.scheme.id, group_id, now=NOW
        ).items
    ] == [claim.id]
    other_scheme = other_world.scheme.id
    assert notice.public_notice(session, world.village.id, other_scheme, now=NOW).items == []


def test_an_open_objection_holds_the_claim_through_post_due(session, world):
    claim = new_claim(session, world, approve_by="reviewer")
    objection = object_to(session, claim)
    assert objection.state == ObjectionState.OPEN
    assert post_due(session, now=END + timedelta(days=3)) == 0
    session.refresh(claim)
    assert claim.state == ClaimState.NOTICED
    # Past its end, a held claim stays on the board, marked as held.
    board = notice.public_notice(session, world.village.id, now=END + timedelta(days=3))
    assert [(i.claim_id, i.held) for i in board.items] == [(claim.id, True)]
    assert session.get(Balance, claim.account_id) is None


def test_upholding_withdraws_the_claim_and_closes_every_open_objection(session, world):
    claim = new_claim(session, world, approve_by="reviewer")
    first = object_to(session, claim)
    second = object_to(session, claim, name="李婶", reason="事情不属实。", ip="10.0.0.2")
    objections.resolve_objection(
        session,
        actor=world.users["reviewer2"],
        objection_id=first.id,
        uphold=True,
        reason="经核实，事迹不属实。",
        now=NOW + timedelta(days=2),
    )
    session.refresh(claim)
    assert claim.state == ClaimState.WITHDRAWN
    assert claim.withdraw_reason == "经核实，事迹不属实。"
    for o in (first, second):
        session.refresh(o)
        assert o.state == ObjectionState.UPHELD
        assert o.resolved_by_id == world.users["reviewer2"].id
    assert post_due(session, now=END + timedelta(days=1)) == 0
    assert session.scalar(select(func.count(LedgerEntry.id))) == 0
    # The board says what happened; the claim does not just disappear.
    board = notice.public_notice(session, world.village.id, now=NOW + timedelta(days=3))
    assert board.items == []
    assert [(c.kind, c.title, c.original_points, c.household) for c in board.corrections] == [
        ("withdrawn", world.rule("XL01").title, 10, "张*华")
    ]


def test_dismissal_after_the_notice_ended_posts_the_claim(session, world):
    claim = new_claim(session, world, approve_by="reviewer")
    objection = object_to(session, claim)
    later = END + timedelta(days=1)
    objections.resolve_objection(
        session,
        actor=world.users["reviewer"],
        objection_id=objection.id,
        uphold=False,
        reason="核实属实，异议不成立。",
        now=later,
    )
    session.refresh(claim)
    session.refresh(objection)
    assert objection.state == ObjectionState.DISMISSED
    assert objection.resolution == "核实属实，异议不成立。"
    assert claim.state == ClaimState.POSTED
    balance = session.get(Balance, claim.account_id)
    assert (balance.score, balance.balance) == (10, 10)
    assert verify(session).ok


def test_dismissal_during_the_notice_leaves_the_claim_to_post_at_the_end(session, world):
    claim = new_claim(session, world, approve_by="reviewer")
    objection = object_to(session, claim)
    objections.resolve_objection(
        session,
        actor=world.users["reviewer"],
        objection_id=objection.id,
        uphold=False,
        reason="不成立。",
        now=NOW + timedelta(days=1),
    )
    session.refresh(claim)
    assert claim.state == ClaimState.NOTICED
    assert post_due(session, now=END) == 1
    session.refresh(claim)
    assert claim.state == ClaimState.POSTED


def test_the_board_shows_a_due_claim_as_awaiting_posting_and_posts_nothing(session, world):
    claim = new_claim(session, world, approve_by="reviewer")
    board = notice.notice_board(session, world.village.id, now=END)
    assert board.items == [] and [i.claim_id for i in board.due] == [claim.id]
    session.rollback()
    session.refresh(claim)
    assert claim.state == ClaimState.NOTICED
    staff = notice.staff_notice(session, world.village.id, now=END, viewer=world.users["reviewer"])
    assert staff.claims == [] and [c.id for c in staff.due] == [claim.id]
    before = board.ledger_code
    assert post_due(session, now=END) == 1
    after = notice.notice_board(session, world.village.id, now=END)
    assert after.due == [] and after.items == [] and after.ledger_code != before
    # A held claim is not due: it stays on the board as held.
    held = new_claim(session, world, household=1, approve_by="reviewer")
    object_to(session, held)
    board = notice.notice_board(session, world.village.id, now=END + timedelta(days=8))
    assert [i.claim_id for i in board.items] == [held.id] and board.due == []


def test_objection_after_the_window_is_refused(session, world):
    claim = new_claim(session, world, approve_by="reviewer")
    with pytest.raises(InvalidState):
        object_to(session, claim, now=END)
    pending = new_claim(session, world, household=1)
    with pytest.raises(InvalidState):
        object_to(session, pending)
    with pytest.raises(NotFound):
        objections.raise_objection(
            session,
            claim_id=claim.id,
            village_id=claim.village_id + 99,
            name="甲",
            contact="",
            reason="乙",
            now=NOW,
        )
    assert objection_count(session) == 0


@pytest.mark.parametrize(
    ("name", "contact", "reason"),
    [
        ("", "138", "不属实"),
        ("   ", "138", "不属实"),
        ("王大伯", "138", "  "),
        ("王" * 51, "", "不属实"),
        ("王大伯", "1" * 101, "不属实"),
        ("王大伯", "", "很" * 1001),
    ],
)
def test_bad_objection_is_refused_and_saves_nothing(session, world, name, contact, reason):
    claim = new_claim(session, world, approve_by="reviewer")
    with pytest.raises(ValidationError):
        objections.raise_objection(
            session,
            claim_id=claim.id,
            name=name,
            contact=contact,
            reason=reason,
            ip="1.2.3.4",
            now=NOW,
        )
    assert objection_count(session) == 0


def test_the_same_objection_sent_twice_is_recorded_once(session, world):
    claim = new_claim(session, world, approve_by="reviewer")
    first = object_to(session, claim)
    again = object_to(session, claim, now=NOW + timedelta(minutes=1))
    assert again.id == first.id
    assert objection_count(session) == 1


def test_one_connection_may_send_only_a_few_objections_a_day(session, world):
    claims = [
        new_claim(session, world, household=i % 3, rule=r, approve_by="reviewer")
        for i, r in enumerate(["XL01", "XL03", "LL01", "LL02", "ZY01", "ZY02"])
    ]
    for i, claim in enumerate(claims[:5]):
        object_to(session, claim, reason=f"第{i}条不属实", now=NOW + timedelta(minutes=i))
    with pytest.raises(objections.TooManyObjections) as refused:
        object_to(session, claims[5], now=NOW + timedelta(minutes=6))
    assert refused.value.status == 429
    assert objection_count(session) == 5
    # Another connection, or the same one a day later, is heard.
    object_to(session, claims[5], ip="10.9.9.9", now=NOW + timedelta(minutes=7))
    later = NOW + timedelta(days=1, minutes=1)
    object_to(session, claims[5], name="李婶", reason="再说一次", now=later)
    assert objection_count(session) == 7


def test_one_connection_may_object_to_one_claim_only_twice_a_day(session, world):
    claim = new_claim(session, world, approve_by="reviewer")
    object_to(session, claim, name="甲", reason="一")
    object_to(session, claim, name="乙", reason="二")
    with pytest.raises(objections.TooManyObjections):
        object_to(session, claim, name="丙", reason="三")
    assert objection_count(session) == 2


def test_staff_record_a_paper_objection(session, world, other_world):
    claim = new_claim(session, world, approve_by="reviewer")
    objection = objections.record_paper_objection(
        session,
        actor=world.users["clerk"],
        claim_id=claim.id,
        name="李婶",
        contact="住一组",
        reason="书面异议：事迹不实。",
        now=NOW,
    )
    assert objection.received_by_id == world.users["clerk"].id
    assert post_due(session, now=END) == 0
    for outsider in (world.users["cashier"], other_world.users["clerk"]):
        with pytest.raises(PermissionDenied):
            objections.record_paper_objection(
                session,
                actor=outsider,
                claim_id=claim.id,
                name="甲",
                contact="",
                reason="乙",
                now=NOW,
            )
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "objection.record_paper"))
    assert event.actor_id == world.users["clerk"].id
    assert event.after["reason"] == "书面异议：事迹不实。"


def test_resolving_needs_a_reviewer_who_is_not_recused(session, world, other_world):
    # reviewer2 lives in household 2 (欧阳明华).
    claim = new_claim(session, world, household=2, approve_by="reviewer")
    objection = object_to(session, claim)
    refusals = [
        (world.users["reviewer2"], RecusalError),
        (world.users["clerk"], PermissionDenied),
        (other_world.users["reviewer"], PermissionDenied),
    ]
    for actor, error in refusals:
        with pytest.raises(error):
            objections.resolve_objection(
                session, actor=actor, objection_id=objection.id, uphold=True, reason="理由", now=NOW
            )
        session.rollback()
    with pytest.raises(ValidationError):
        objections.resolve_objection(
            session,
            actor=world.users["reviewer"],
            objection_id=objection.id,
            uphold=True,
            reason="  ",
            now=NOW,
        )
    session.rollback()
    session.refresh(objection)
    assert objection.state == ObjectionState.OPEN


def test_the_recorder_may_not_decide_objections_to_their_own_claim(session, world):
    claim = new_claim(session, world, clerk="admin", approve_by="reviewer")
    objection = object_to(session, claim)
    with pytest.raises(FourEyesError):
        objections.resolve_objection(
            session,
            actor=world.users["admin"],
            objection_id=objection.id,
            uphold=False,
            reason="不成立",
            now=NOW,
        )


def test_an_objection_is_decided_once(session, world):
    claim = new_claim(session, world, approve_by="reviewer")
    objection = object_to(session, claim)
    kwargs = dict(
        actor=world.users["reviewer"], objection_id=objection.id, reason="不成立", now=NOW
    )
    objections.resolve_objection(session, uphold=False, **kwargs)
    with pytest.raises(InvalidState):
        objections.resolve_objection(session, uphold=True, **kwargs)


def test_objections_and_decisions_land_in_the_audit_log(session, world):
    claim = new_claim(session, world, approve_by="reviewer")
    objection = object_to(session, claim, ip="10.1.2.3")
    objections.resolve_objection(
        session,
        actor=world.users["reviewer"],
        objection_id=objection.id,
        uphold=True,
        reason="成立",
        now=NOW + timedelta(hours=2),
        ip="10.0.0.99",
    )
    raised = session.scalar(select(AuditEvent).where(AuditEvent.action == "objection.raise"))
    assert (raised.actor_id, raised.actor_name, raised.ip) == (None, "王大伯", "10.1.2.3")
    assert raised.object_type == "objection" and raised.object_id == objection.id
    assert raised.after["claim_id"] == claim.id
    upheld = session.scalar(select(AuditEvent).where(AuditEvent.action == "objection.uphold"))
    assert upheld.actor_id == world.users["reviewer"].id
    assert upheld.before == {"state": "open"}
    assert upheld.after["state"] == "upheld"
    assert upheld.ip == "10.0.0.99"
    withdrawn = session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "claim.withdraw", AuditEvent.object_id == claim.id
        )
    )
    assert withdrawn.after["objection_id"] == objection.id


def test_a_reversal_shows_on_the_board_and_in_the_household_entries(session, world):
    claim = new_claim(session, world, approve_by="reviewer")
    post_due(session, now=END)
    entry = session.scalar(select(LedgerEntry).where(LedgerEntry.claim_id == claim.id))
    reversal = correct_entry(session, world, entry.id, "录错了农户。", now=END)
    posted = reversal.posted_at
    assert posted == END + timedelta(days=world.scheme.notice_days)
    board = notice.public_notice(session, world.village.id, now=posted + timedelta(days=1))
    assert [(c.kind, c.points, c.original_points, c.reason) for c in board.corrections] == [
        ("reversal", -10, 10, "录错了农户。")
    ]
    # Thirty days on, the board has moved on (the ledger keeps both entries for ever).
    assert (
        notice.public_notice(session, world.village.id, now=posted + timedelta(days=31)).corrections
        == []
    )
    page = entries.household_entries(session, world.village.id, world.households[0].id)
    assert [(r.entry.id, r.is_reversal, r.can_reverse) for r in page.items] == [
        (reversal.id, True, False),
        (entry.id, False, False),
    ]
    assert page.items[1].reversed_by.id == reversal.id
    assert page.items[1].recorder == world.users["clerk"].display_name
    assert page.items[1].approver == world.users["reviewer"].display_name
    totals = queries.household_totals(session, world.households[0])
    assert [(t.score, t.balance) for t in totals] == [(0, 0)]
    assert verify(session).ok


def test_household_entries_stay_in_their_village(session, world, other_world):
    claim = new_claim(session, other_world, approve_by="reviewer")
    post_due(session, now=END)
    page = entries.household_entries(session, world.village.id, claim.household_id)
    assert page.items == [] and page.total == 0


def test_find_group_by_name(session, world):
    assert notice.find_group(session, world.village.id, " 一组 ").name == "一组"
    with pytest.raises(NotFound):
        notice.find_group(session, world.village.id, "九组")


def test_claims_on_notice_are_ordered_by_group_and_house_number(session, world):
    homes = world.households
    homes[0].house_number, homes[1].house_number, homes[2].house_number = "10号", "2号", "1号"
    session.commit()
    for i in range(3):
        new_claim(session, world, household=i, approve_by="reviewer")
    claims = notice.claims_in_notice(session, world.village.id, now=NOW)
    assert [c.household.house_number for c in claims] == ["1号", "2号", "10号"]
    assert all(c.state == ClaimState.NOTICED for c in claims)
    assert session.scalar(select(func.count(Claim.id))) == 3
