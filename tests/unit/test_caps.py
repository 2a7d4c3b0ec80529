"""The pure cap decision and the period a deed falls in."""

import re
from datetime import date

import pytest

from credits.caps import CapBreach, cap_breach, cap_exceeded, period_of


@pytest.mark.parametrize(
    ("day", "period"),
    [
        (date(2026, 1, 1), 202601),
        (date(2026, 1, 31), 202601),
        (date(2026, 2, 28), 202602),
        (date(2024, 2, 29), 202402),
        (date(2026, 11, 20), 202611),
        (date(2026, 12, 31), 202612),
        (date(2027, 1, 1), 202701),
        (date(999, 9, 9), 99909),
    ],
)
def test_period_of_is_year_times_hundred_plus_month(day, period):
    assert period_of(day) == period


@pytest.mark.parametrize(
    ("points", "cap_month", "cap_year", "used_month", "used_year", "expected"),
    [
        # No caps: never a breach.
        (10, None, None, 0, 0, None),
        (10, None, None, 10_000, 10_000, None),
        # Monthly cap: up to and including the cap is fine, one point over is not.
        (10, 20, None, 0, 0, None),
        (10, 20, None, 10, 10, None),
        (10, 20, None, 11, 11, CapBreach(20, 11, "month")),
        (10, 20, None, 20, 20, CapBreach(20, 20, "month")),
        (20, 20, None, 0, 0, None),
        (21, 20, None, 0, 0, CapBreach(20, 0, "month")),
        # Yearly cap alone.
        (20, None, 20, 0, 0, None),
        (20, None, 20, 0, 20, CapBreach(20, 20, "year")),
        (5, None, 20, 0, 15, None),
        (5, None, 20, 0, 16, CapBreach(20, 16, "year")),
        # Both caps: the month is checked first, then the year.
        (5, 10, 30, 5, 25, None),
        (5, 10, 30, 6, 6, CapBreach(10, 6, "month")),
        (5, 10, 30, 0, 26, CapBreach(30, 26, "year")),
        (5, 10, 30, 10, 30, CapBreach(10, 10, "month")),
        # Deductions count by their absolute value.
        (-5, 10, None, 5, 5, None),
        (-5, 10, None, 6, 6, CapBreach(10, 6, "month")),
        (-20, None, 30, 0, 11, CapBreach(30, 11, "year")),
        # A cap of zero refuses everything.
        (1, 0, None, 0, 0, CapBreach(0, 0, "month")),
    ],
)
def test_cap_breach_table(points, cap_month, cap_year, used_month, used_year, expected):
    assert cap_breach(points, cap_month, cap_year, used_month, used_year) == expected


@pytest.mark.parametrize(
    ("period", "word"),
    [("month", "每月"), ("year", "每年")],
)
def test_a_cap_refusal_names_its_period_in_chinese(period, word):
    error = cap_exceeded(CapBreach(20, 15, period))
    assert error.status == 409
    assert error.params == {"cap": 20, "used": 15, "period": period}
    text = error.translated("zh_CN")
    assert word in text and "20" in text and "15" in text
    assert not re.search(r"[A-Za-z]", text), text
    assert f"a {period}" in error.translated("en")
