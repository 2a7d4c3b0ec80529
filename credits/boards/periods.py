"""Periods a board covers: a month, a quarter, a year or all time, parsed from their labels."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from credits.errors import ValidationError
from credits.i18n import N_, gettext

KINDS = ("month", "quarter", "year", "all")
ALL_FIRST, ALL_LAST = 190001, 999912
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")


@dataclass(frozen=True)
class PeriodSpec:
    """An inclusive range of yyyymm months with its kind and label (2026-11, 2026-Q4, 2026)."""

    kind: str
    label: str
    first: int
    last: int

    @property
    def year(self) -> int:
        return self.last // 100

    def contains(self, period: int) -> bool:
        return self.first <= period <= self.last


def month_spec(year: int, month: int) -> PeriodSpec:
    return PeriodSpec("month", f"{year:04d}-{month:02d}", year * 100 + month, year * 100 + month)


def quarter_spec(year: int, quarter: int) -> PeriodSpec:
    first = year * 100 + 3 * quarter - 2
    return PeriodSpec("quarter", f"{year:04d}-Q{quarter}", first, first + 2)


def year_spec(year: int) -> PeriodSpec:
    return PeriodSpec("year", f"{year:04d}", year * 100 + 1, year * 100 + 12)


ALL_TIME = PeriodSpec("all", "all", ALL_FIRST, ALL_LAST)


def parse_period(label: str | None) -> PeriodSpec:
    """Read a period label: 2026-11, 2026-Q4, 2026 or all; refuse anything else."""
    text = (label or "").strip()
    if text == "all":
        return ALL_TIME
    if (m := _MONTH.match(text)) and 1 <= int(m[2]) <= 12 and int(m[1]) >= 1900:
        return month_spec(int(m[1]), int(m[2]))
    if (m := _QUARTER.match(text)) and int(m[1]) >= 1900:
        return quarter_spec(int(m[1]), int(m[2]))
    if (m := _YEAR.match(text)) and int(m[1]) >= 1900:
        return year_spec(int(m[1]))
    raise ValidationError(
        N_("%(label)s is not a period like 2026-11, 2026-Q4, 2026 or all."), label=text[:20]
    )


def current_spec(kind: str, today: date) -> PeriodSpec:
    """The period of a kind that today falls in."""
    if kind == "month":
        return month_spec(today.year, today.month)
    if kind == "quarter":
        return quarter_spec(today.year, (today.month - 1) // 3 + 1)
    if kind == "year":
        return year_spec(today.year)
    if kind == "all":
        return ALL_TIME
    raise ValidationError(N_("Choose month, quarter, year or all."))


def shift_months(period: int, months: int) -> int:
    """Move a yyyymm period by a number of months (negative: back)."""
    index = (period // 100) * 12 + (period % 100 - 1) + months
    return (index // 12) * 100 + index % 12 + 1


def last_day(spec: PeriodSpec) -> date:
    """The last day of a (bounded) period."""
    year, month = divmod(spec.last, 100)
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return date.fromordinal(nxt.toordinal() - 1)


QUARTERS_ZH = ("一", "二", "三", "四")


def period_title(spec: PeriodSpec, locale: str = "zh_CN") -> str:
    """A period in words for print and pages: 2026年11月, 2026年第四季度, 2026年度."""
    year, month = divmod(spec.last, 100)
    zh = locale.lower().startswith("zh")
    if spec.kind == "month":
        return f"{year}年{month}月" if zh else f"{year}-{month:02d}"
    if spec.kind == "quarter":
        quarter = (month - 1) // 3 + 1
        return f"{year}年第{QUARTERS_ZH[quarter - 1]}季度" if zh else f"Q{quarter} {year}"
    if spec.kind == "year":
        return f"{year}年度" if zh else str(year)
    return gettext(N_("All time"), locale)


def period_choices(today: date, months: int = 6, quarters: int = 4) -> list[PeriodSpec]:
    """Periods a board page offers: recent months, recent quarters, this and last year, all."""
    now = today.year * 100 + today.month
    choices = []
    for back in range(months):
        p = shift_months(now, -back)
        choices.append(month_spec(p // 100, p % 100))
    quarter = current_spec("quarter", today)
    for _ in range(quarters):
        choices.append(quarter)
        previous = shift_months(quarter.first, -3)
        quarter = quarter_spec(previous // 100, (previous % 100 - 1) // 3 + 1)
    choices += [year_spec(today.year), year_spec(today.year - 1), ALL_TIME]
    return choices
