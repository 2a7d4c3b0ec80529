"""Boards read from the totals kept at posting: ranks, tallies, bars, policies, groups."""

from __future__ import annotations

from datetime import date

import pytest
from boards_support import NOW, post, redeem, reverse
from conftest import NOW as CLAIM_NOW
from conftest import new_claim
from sqlalchemy import func, select

from credits.boards.closing import close_period, closed_board
from credits.boards.pages import BoardQuery, board_page
from credits.boards.periods import ALL_TIME, parse_period
from credits.boards.policies import ExclusiveClaim, Policy, load_policy, save_policy
from credits.boards.ranking import board, red_board
from credits.boards.stars import passbook_honours
from credits.errors import NotFound, ValidationError
from credits.models import BoardTally, LedgerEntry
from credits.workflow import withdraw_claim

TODAY = date(2026, 12, 3)
NOV = parse_period("2026-11")


def _ranks(session, world, spec=NOV, **kw):  # noqa: ANN001, ANN003, ANN202
    policy = load_policy(session, world.scheme)
    result = board(session, world.village.id, world.scheme.id, spec, policy, today=TODAY, **kw)
    return [(ln.name, ln.rank, ln.points) for ln in result.active]


def test_spending_points_leaves_ranks_unchanged(session, world) -> None:
    post(session, world, 0, "XL01", times=2)
    post(session, world, 1, "XL01")
    before = _ranks(session, world)
    redeem(session, world, 0, 15)  # a REDEMPTION with score_delta 0
    assert _ranks(session, world) == before == [("张建华", 1, 20), ("李秀兰", 2, 10)]


def test_a_correction_moves_the_board_and_the_deduction_count(session, world) -> None:
    post(session, world, 0, "XL01")
    deduction = post(session, world, 0, "KF01")[0]
    post(session, world, 1, "LL01")
    assert _ranks(session, world) == [("李秀兰", 1, 5), ("张建华", 1, 5)]  # tie: fewer deductions
    full = board(session, world.village.id, world.scheme.id, NOV, Policy(), today=TODAY)
    assert [(ln.name, ln.deductions) for ln in full.active] == [("李秀兰", 0), ("张建华", 1)]
    reverse(session, deduction)
    assert _ranks(session, world) == [("张建华", 1, 10), ("李秀兰", 2, 5)]
    tallies = session.scalar(select(func.sum(BoardTally.deductions)))
    assert tallies == 0


def test_tallies_match_the_ledger(session, world) -> None:
    post(session, world, 0, "XL01", member=1, times=2)
    entry = post(session, world, 1, "HJ02")[0]
    post(session, world, 2, "KF06")
    reverse(session, entry)
    redeem(session, world, 0, 5)
    score = session.scalar(select(func.sum(LedgerEntry.score_delta)))
    assert session.scalar(select(func.sum(BoardTally.score))) == score
    member_rows = session.scalars(select(BoardTally).where(BoardTally.member_id != 0)).all()
    assert [(r.score, r.awards) for r in member_rows] == [(20, 2)]
    assert session.scalar(select(func.sum(BoardTally.red_lines))) == 1


def test_member_board_ranks_members_named_on_entries(session, world) -> None:
    post(session, world, 0, "XL01", member=1)
    post(session, world, 1, "XL01", member=0, times=2)
    post(session, world, 2, "XL01")  # no member named: not on the member board
    assert _ranks(session, world, who="members") == [("李秀兰", 1, 20), ("张小明", 2, 10)]


def test_group_and_category_filters(session, world) -> None:
    post(session, world, 0, "XL01")
    post(session, world, 1, "HJ02")
    assert _ranks(session, world, category="环境卫生") == [("李秀兰", 1, 5)]
    group_id = world.households[0].group_id
    assert len(_ranks(session, world, group_id=group_id)) == 2


def test_a_red_line_keeps_a_household_off_the_red_board_and_without_stars(session, world) -> None:
    save_policy(
        session,
        actor=world.users["admin"],
        scheme_id=world.scheme.id,
        policy=Policy(star_kind="score", star_levels=(5,)),
    )
    post(session, world, 0, "JY03")  # +50
    post(session, world, 0, "KF06", day=date(2026, 3, 2))  # red line −20 in March
    post(session, world, 1, "XL01")
    policy = load_policy(session, world.scheme)
    full = board(session, world.village.id, world.scheme.id, NOV, policy, today=TODAY)
    top = full.lines[0]
    assert (top.name, top.barred, top.stars) == ("张建华", True, 0)
    assert [ln.name for ln in red_board(full, policy)] == ["李秀兰"]
    assert full.lines[1].stars == 1
    closed = close_period(
        session, actor=world.users["admin"], scheme_id=world.scheme.id, label="2026-11", now=NOW
    )
    data = closed_board(session, world.village.id, closed.id)
    assert [r.head_name for r in data.overall if not r.barred] == ["李秀兰"]


@pytest.mark.parametrize(("reset", "expected"), [("carry", 30), ("yearly", 10)])
def test_the_all_time_board_honours_the_yearly_reset(session, world, reset, expected) -> None:  # noqa: ANN001
    post(session, world, 0, "XL01", day=date(2025, 12, 5), times=2)
    post(session, world, 0, "XL01")
    save_policy(
        session, actor=world.users["admin"], scheme_id=world.scheme.id, policy=Policy(reset=reset)
    )
    assert _ranks(session, world, spec=ALL_TIME)[0][2] == expected


def test_passbook_honours_add_the_base_score(session, world) -> None:
    save_policy(
        session,
        actor=world.users["admin"],
        scheme_id=world.scheme.id,
        policy=Policy(base_score=100, threshold=100),
    )
    post(session, world, 0, "KF01")
    honours = passbook_honours(session, world.households[0].id, world.scheme, TODAY)
    assert (honours.standing, honours.below_threshold) == (95, True)


def test_an_exclusive_group_refuses_a_second_item_for_the_same_deed(session, world) -> None:
    save_policy(
        session,
        actor=world.users["admin"],
        scheme_id=world.scheme.id,
        policy=Policy(groups={"邻里": ("LL01", "LL02")}),
    )
    first = new_claim(session, world, rule="LL01")
    with pytest.raises(ExclusiveClaim) as refused:
        new_claim(session, world, rule="LL02")
    session.rollback()
    assert f"第 {first.id} 号" in refused.value.translated()
    new_claim(session, world, rule="LL02", household=1)  # another household
    new_claim(session, world, rule="LL02", day=CLAIM_NOW.date().replace(day=19))  # another day
    withdraw_claim(session, actor=world.users["clerk"], claim_id=first.id, now=CLAIM_NOW)
    new_claim(session, world, rule="LL02")  # the first is withdrawn: the higher item fits


def test_board_page_refuses_filters_of_nothing(session, world) -> None:
    with pytest.raises(NotFound):
        board_page(session, world.village, BoardQuery(group="99999999999"), today=TODAY)
    with pytest.raises(ValidationError):
        board_page(session, world.village, BoardQuery(period="2026-11\x00"), today=TODAY)
