"""Pure rules of the oversight pages: periods, surnames, working hours, outliers, counters."""

from __future__ import annotations

from datetime import datetime

import pytest

from credits.errors import ValidationError
from credits.oversight.aggregates import EntryFacts, effects
from credits.oversight.integrity import off_hours, outlier, surname
from credits.oversight.periods import keys_of_month, parse_period
from credits.oversight.township import VillageRow, rank_villages
from credits.proposals import mask_phone


@pytest.mark.parametrize(
    ("text", "kind", "months"),
    [
        ("2026-11", "month", (202611,)),
        ("2026-Q4", "quarter", (202610, 202611, 202612)),
        ("2026-Q1", "quarter", (202601, 202602, 202603)),
        ("2026", "year", tuple(202600 + m for m in range(1, 13))),
    ],
)
def test_periods_are_read_from_their_keys(text, kind, months):
    period = parse_period(text)
    assert (period.kind, period.months) == (kind, months)


@pytest.mark.parametrize(
    "text", ["", "2026-13", "2026-Q5", "26-11", "2026-1", "\x00", "9" * 20, "1999", "2026-00"]
)
def test_bad_periods_are_refused(text):
    with pytest.raises(ValidationError):
        parse_period(text)


def test_an_entry_counts_in_its_month_quarter_year_and_all_time():
    assert keys_of_month(202611) == ("2026-11", "2026-Q4", "2026", "all")
    assert keys_of_month(202601)[1] == "2026-Q1"


@pytest.mark.parametrize(
    ("name", "family"),
    [("张建华", "张"), ("欧阳明华", "欧阳"), ("司马光", "司马"), ("李", "李"), ("", "")],
)
def test_surnames_know_the_compound_ones(name, family):
    assert surname(name) == family


@pytest.mark.parametrize(
    ("utc", "outside"),
    [
        (datetime(2026, 11, 20, 1, 0), False),  # Friday 09:00 in the village
        (datetime(2026, 11, 19, 23, 59), True),  # Friday 07:59
        (datetime(2026, 11, 20, 0, 0), False),  # Friday 08:00
        (datetime(2026, 11, 20, 10, 0), True),  # Friday 18:00
        (datetime(2026, 11, 21, 2, 0), True),  # Saturday 10:00
        (datetime(2026, 11, 23, 2, 0), False),  # Monday 10:00
    ],
)
def test_working_hours_are_village_time_monday_to_friday(utc, outside):
    assert off_hours(utc) is outside


@pytest.mark.parametrize(
    ("value", "others", "flagged"),
    [
        (0.5, [0.1, 0.2], True),  # above 2 × 0.15 and 35 points above
        (0.24, [0.1, 0.1], False),  # 2.4 × the median but only 14 points above
        (0.26, [0.1, 0.1], True),
        (0.2, [0.0, 0.0], True),  # others never do it
        (0.1, [0.0, 0.0], False),  # under the 15-point floor
        (0.6, [0.4], False),  # not twice the median
        (0.9, [], False),  # nobody to compare with
    ],
)
def test_outliers_are_twice_the_median_of_the_others_and_well_above_it(value, others, flagged):
    assert outlier(value, others) is flagged


def _facts(kind, points, score, balance):
    return EntryFacts(1, 1, 1, kind, points, score, balance, 202611, "c", datetime(2026, 11, 1))


@pytest.mark.parametrize(
    ("facts", "moved"),
    [
        (_facts("award", 10, 10, 10), {"awards": 1, "points_awarded": 10}),
        (_facts("deduction", -5, -5, -5), {"deductions": 1, "points_deducted": 5}),
        (_facts("redemption", -8, 0, -8), {"redemptions": 1, "points_redeemed": 8}),
        (_facts("reversal", -10, -10, -10), {"reversals": 1, "points_awarded": -10}),
        (_facts("reversal", 5, 5, 5), {"reversals": 1, "points_deducted": -5}),
    ],
)
def test_each_kind_of_entry_moves_its_own_counters(facts, moved):
    result = effects(facts)
    assert {k: v for k, v in result.items() if v and not k.endswith("_net")} == moved
    assert (result["score_net"], result["balance_net"]) == (facts.score_delta, facts.balance_delta)


def test_villages_with_equal_numbers_share_a_rank():
    rows = [
        VillageRow(1, "A", "a", "", households=10, active=5, points_awarded=50),
        VillageRow(2, "B", "b", "", households=10, active=5, points_awarded=50),
        VillageRow(3, "C", "c", "", households=10, active=8, points_awarded=10),
        VillageRow(4, "D", "d", "", households=0),
    ]
    rank_villages(rows)
    assert [r.rank for r in rows] == [2, 2, 1, 4]


@pytest.mark.parametrize(
    ("phone", "shown"), [("13812345678", "138****5678"), ("1234", "****"), ("", "")]
)
def test_phone_numbers_are_masked(phone, shown):
    assert mask_phone(phone) == shown
