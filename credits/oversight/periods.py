"""Period keys of the township view: a month "2026-11", a quarter "2026-Q4", a year "2026"."""

from __future__ import annotations

import re
from dataclasses import dataclass

from credits.errors import ValidationError
from credits.i18n import N_

ALL = "all"
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")


def keys_of_month(yyyymm: int) -> tuple[str, str, str, str]:
    """The four period keys an entry of a month counts in: month, quarter, year, all."""
    year, month = divmod(yyyymm, 100)
    return (f"{year}-{month:02d}", f"{year}-Q{(month - 1) // 3 + 1}", f"{year}", ALL)


@dataclass(frozen=True)
class Period:
    """A month, quarter or year; `months` lists its yyyymm values in order."""

    key: str
    kind: str  # month | quarter | year
    year: int
    months: tuple[int, ...]

    @property
    def first(self) -> int:
        return self.months[0]

    @property
    def last(self) -> int:
        return self.months[-1]


def parse_period(text: str) -> Period:
    """Read a period key, or refuse it with a clear message."""
    text = (text or "").strip()[:10]
    if m := _MONTH.match(text):
        year, month = int(m[1]), int(m[2])
        if 2000 <= year <= 2100 and 1 <= month <= 12:
            return Period(text, "month", year, (year * 100 + month,))
    elif m := _QUARTER.match(text):
        year, q = int(m[1]), int(m[2])
        if 2000 <= year <= 2100:
            months = tuple(year * 100 + mm for mm in range(3 * q - 2, 3 * q + 1))
            return Period(text, "quarter", year, months)
    elif m := _YEAR.match(text):
        year = int(m[1])
        if 2000 <= year <= 2100:
            return Period(text, "year", year, tuple(year * 100 + mm for mm in range(1, 13)))
    raise ValidationError(N_("A period looks like 2026-11, 2026-Q4 or 2026."))


def month_period(yyyymm: int) -> Period:
    """The month period of a yyyymm value."""
    return parse_period(keys_of_month(yyyymm)[0])
