"""The villages' clock: stored times are naive UTC, people live in Asia/Shanghai."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

TIMEZONE = ZoneInfo("Asia/Shanghai")


def to_local(moment: datetime) -> datetime:
    """Turn a stored (naive UTC) time into naive village-local time."""
    return moment.replace(tzinfo=UTC).astimezone(TIMEZONE).replace(tzinfo=None)


def local_date(moment: datetime) -> date:
    """The village day a stored (naive UTC) time falls on."""
    return to_local(moment).date()


def utc_start_of(day: date) -> datetime:
    """The stored (naive UTC) moment a village day begins."""
    return datetime.combine(day, time(), TIMEZONE).astimezone(UTC).replace(tzinfo=None)


def today() -> date:
    """Today's date in the villages' time zone."""
    return datetime.now(TIMEZONE).date()


def current_period(now: datetime | None = None) -> int:
    """This month as yyyymm in the villages' time zone (`now` is a stored naive UTC time)."""
    day = local_date(now) if now is not None else today()
    return day.year * 100 + day.month
