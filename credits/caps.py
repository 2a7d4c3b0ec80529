"""Pure decisions about rule caps and periods."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from credits.errors import CapExceeded
from credits.i18n import N_

# One message per period, so the period is translated with the sentence around it.
CAP_MESSAGES = {
    "month": N_(
        "The cap of this rule is reached: at most %(cap)s points a month for one household "
        "(already %(used)s)."
    ),
    "year": N_(
        "The cap of this rule is reached: at most %(cap)s points a year for one household "
        "(already %(used)s)."
    ),
}


def period_of(day: date) -> int:
    """Return the yyyymm period a day falls in."""
    return day.year * 100 + day.month


@dataclass(frozen=True)
class CapBreach:
    cap: int
    used: int
    period: str  # msgid of "month" or "year"


def cap_breach(
    points: int, cap_month: int | None, cap_year: int | None, used_month: int, used_year: int
) -> CapBreach | None:
    """Return the cap a new claim would break, given points already used (absolute values)."""
    amount = abs(points)
    if cap_month is not None and used_month + amount > cap_month:
        return CapBreach(cap_month, used_month, N_("month"))
    if cap_year is not None and used_year + amount > cap_year:
        return CapBreach(cap_year, used_year, N_("year"))
    return None


def cap_exceeded(breach: CapBreach) -> CapExceeded:
    """Return the refusal for a breached cap, worded for its period."""
    return CapExceeded(
        CAP_MESSAGES[breach.period], cap=breach.cap, used=breach.used, period=breach.period
    )
