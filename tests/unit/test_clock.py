"""Stored times are naive UTC; villages live eight hours ahead."""

from datetime import date, datetime

import pytest

from credits.clock import current_period, local_date, to_local, utc_start_of


@pytest.mark.parametrize(
    ("stored", "day", "period"),
    [
        (datetime(2026, 11, 30, 15, 59), date(2026, 11, 30), 202611),
        (datetime(2026, 11, 30, 16, 0), date(2026, 12, 1), 202612),  # midnight in the village
        (datetime(2026, 12, 31, 16, 30), date(2027, 1, 1), 202701),
    ],
)
def test_stored_times_fall_on_village_days(stored, day, period):
    assert local_date(stored) == day
    assert current_period(stored) == period


def test_a_village_day_starts_at_sixteen_hundred_utc_the_day_before():
    assert utc_start_of(date(2026, 12, 1)) == datetime(2026, 11, 30, 16, 0)
    assert to_local(utc_start_of(date(2026, 12, 1))) == datetime(2026, 12, 1, 0, 0)
