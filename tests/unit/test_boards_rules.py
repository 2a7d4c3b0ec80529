"""Pure board rules: rank order and ties, periods, policies, stars and badges."""

from __future__ import annotations

from datetime import date

import pytest

from credits.boards.periods import parse_period, period_title, shift_months
from credits.boards.policies import (
    Policy,
    barred,
    below_threshold,
    check_policy,
    parse_groups,
    standing_score,
    window,
)
from credits.boards.ranking import Line, house_key, rank_lines
from credits.boards.stars import Month, badges_for, longest_run, stars_for
from credits.errors import ValidationError


def _line(key: int, points: int, deductions: int = 0, house: str = "") -> Line:
    return Line(key=key, name=f"户{key}", house_number=house, points=points, deductions=deductions)


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        # (key, points, deductions, house) → [(key, rank)] in display order
        ([(1, 30, 0, "1号"), (2, 20, 0, "2号"), (3, 10, 0, "3号")], [(1, 1), (2, 2), (3, 3)]),
        ([(1, 30, 0, "1号"), (2, 30, 0, "2号"), (3, 10, 0, "3号")], [(1, 1), (2, 1), (3, 3)]),
        (
            [(1, 20, 0, "1号"), (2, 30, 0, "2号"), (3, 30, 0, "3号"), (4, 30, 0, "4号")],
            [(2, 1), (3, 1), (4, 1), (1, 4)],
        ),
        # equal points: fewer deductions first, the rank stays shared
        ([(1, 30, 2, "1号"), (2, 30, 0, "9号")], [(2, 1), (1, 1)]),
        # then house number in natural order: 2号 before 10号
        ([(1, 30, 0, "10号"), (2, 30, 0, "2号")], [(2, 1), (1, 1)]),
        ([(1, 0, 0, ""), (2, 0, 0, "")], [(1, 1), (2, 1)]),
        ([(1, -5, 1, "1号"), (2, 0, 0, "2号"), (3, 5, 0, "3号")], [(3, 1), (2, 2), (1, 3)]),
        ([], []),
    ],
)
def test_standard_competition_ranking_with_the_written_tie_break(lines, expected) -> None:
    ranked = rank_lines([_line(*values) for values in lines])
    assert [(ln.key, ln.rank) for ln in ranked] == expected


def test_house_numbers_sort_naturally() -> None:
    assert sorted(["10号", "2号", "1-3号", "东1号"], key=house_key) == [
        "1-3号",
        "2号",
        "10号",
        "东1号",
    ]


@pytest.mark.parametrize(
    ("label", "kind", "first", "last"),
    [
        ("2026-11", "month", 202611, 202611),
        ("2026-Q4", "quarter", 202610, 202612),
        ("2026-q1", "quarter", 202601, 202603),
        ("2026", "year", 202601, 202612),
    ],
)
def test_period_labels_parse(label: str, kind: str, first: int, last: int) -> None:
    spec = parse_period(label)
    assert (spec.kind, spec.first, spec.last) == (kind, first, last)


@pytest.mark.parametrize(
    "label", ["", "2026-13", "2026-00", "2026-Q5", "26-11", "x", "9" * 20, "a\x00"]
)
def test_bad_period_labels_are_refused(label: str) -> None:
    with pytest.raises(ValidationError):
        parse_period(label)


def test_period_titles_read_the_chinese_way() -> None:
    assert period_title(parse_period("2026-11")) == "2026年11月"
    assert period_title(parse_period("2026-Q4")) == "2026年第四季度"


@pytest.mark.parametrize(
    ("period", "months", "expected"),
    [(202611, 1, 202612), (202612, 1, 202701), (202601, -1, 202512), (202611, -11, 202512)],
)
def test_shift_months(period: int, months: int, expected: int) -> None:
    assert shift_months(period, months) == expected


TODAY = date(2026, 11, 20)
MONTHS = {202411: 40, 202506: 30, 202601: 10, 202611: 5}


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (Policy(), 85),  # carry over: everything
        (Policy(base_score=100), 185),
        (Policy(base_score=100, reset="yearly"), 115),  # this year only
        (Policy(expiry_years=1), 15),  # Dec 2025 … Nov 2026
        (Policy(expiry_years=2), 85 - 40 + 0),  # Dec 2024 … : 202411 expired
    ],
)
def test_standing_score_honours_base_reset_and_expiry(policy: Policy, expected: int) -> None:
    assert standing_score(policy, MONTHS, TODAY) == expected


def test_the_yearly_window_starts_in_january() -> None:
    assert window(Policy(reset="yearly"), TODAY) == (202601, 202611)


@pytest.mark.parametrize(
    ("threshold", "score", "below"), [(None, -50, False), (70, 69, True), (70, 70, False)]
)
def test_threshold(threshold, score, below) -> None:  # noqa: ANN001
    assert below_threshold(Policy(threshold=threshold), score) is below


@pytest.mark.parametrize(
    ("red_lines", "period", "is_barred"),
    [
        ({}, 202611, False),
        ({202611: 1}, 202611, True),
        ({202512: 1}, 202611, True),  # 12 months: Dec 2025 … Nov 2026
        ({202511: 1}, 202611, False),
        ({202611: 0}, 202611, False),  # corrected: the count went back to zero
        ({202612: 1}, 202611, False),  # later than the period
    ],
)
def test_a_red_line_bars_honours_for_twelve_months(red_lines, period, is_barred) -> None:  # noqa: ANN001
    assert barred(red_lines, period) is is_barred


@pytest.mark.parametrize(
    ("policy", "year_points", "categories", "stars"),
    [
        (Policy(), 500, {"孝老爱亲": 100}, 0),
        (Policy(star_kind="category", star_min_points=20), 60, {"a": 20, "b": 19, "c": 21}, 2),
        (Policy(star_kind="category", star_min_points=1), 9, {str(i): 1 for i in range(9)}, 5),
        (Policy(star_kind="score", star_levels=(50, 100, 200)), 99, {}, 1),
        (Policy(star_kind="score", star_levels=(50, 100, 200)), 200, {}, 3),
        (Policy(star_kind="score", star_levels=(50,)), 10, {}, 0),
    ],
)
def test_star_rules(policy: Policy, year_points: int, categories, stars: int) -> None:  # noqa: ANN001
    assert stars_for(policy, year_points, categories) == stars


@pytest.mark.parametrize(
    ("months", "run"),
    [
        ([], 0),
        ([Month(202609, 1, 0), Month(202610, 2, 0), Month(202611, 1, 0)], 3),
        ([Month(202609, 1, 0), Month(202610, 2, 1), Month(202611, 1, 0)], 1),
        ([Month(202612, 1, 0), Month(202701, 1, 0)], 2),  # across the new year
        ([Month(202608, 1, 0), Month(202610, 1, 0)], 1),  # a gap breaks the run
    ],
)
def test_longest_run_of_good_months(months, run: int) -> None:  # noqa: ANN001
    assert longest_run(months) == run


@pytest.mark.parametrize(
    ("total", "months", "volunteer", "badges"),
    [
        (0, [], 0, []),
        (1, [Month(202611, 1, 0)], 0, ["first_award"]),
        (
            3,
            [Month(202609, 1, 0), Month(202610, 1, 0), Month(202611, 1, 0)],
            0,
            ["first_award", "steady"],
        ),
        (5, [Month(202611, 5, 0)], 5, ["first_award", "volunteer"]),
        (0, [Month(202611, 0, 2)], 0, []),
    ],
)
def test_badges_from_the_tallies(total, months, volunteer, badges) -> None:  # noqa: ANN001
    assert badges_for(total, months, volunteer) == badges


@pytest.mark.parametrize(
    "policy",
    [
        Policy(reset="never"),
        Policy(star_kind="moon"),
        Policy(base_score=-1),
        Policy(expiry_years=0),
        Policy(star_kind="score", star_levels=()),
        Policy(star_kind="score", star_levels=(100, 50)),
        Policy(star_kind="score", star_levels=(10, 20, 30, 40, 50, 60)),
        Policy(star_kind="category", star_min_points=0),
    ],
)
def test_nonsense_policies_are_refused(policy: Policy) -> None:
    with pytest.raises(ValidationError):
        check_policy(policy)


def test_exclusive_groups_are_written_one_a_line() -> None:
    assert parse_groups("环境：HJ01，HJ02\n\n 赡养: XL01, XL04 ") == {
        "环境": ("HJ01", "HJ02"),
        "赡养": ("XL01", "XL04"),
    }
    with pytest.raises(ValidationError):
        parse_groups("only: HJ01")
    with pytest.raises(ValidationError):
        parse_groups("no colon HJ01 HJ02")
