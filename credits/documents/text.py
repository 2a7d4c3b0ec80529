"""Small text formats shared by the printouts: dates and signed points."""

from __future__ import annotations

from datetime import date

from babel.dates import format_date as babel_format_date

MINUS = "\u2212"  # a true minus is as wide as "+" and does not vanish like a hyphen on paper


def format_date_zh(d: date) -> str:
    """Format a date the Chinese way: 2026年11月26日."""
    return f"{d.year}年{d.month}月{d.day}日"


def format_date(d: date, locale: str = "zh_CN") -> str:
    """Format a date for print in the given locale (Chinese form for zh, long form otherwise)."""
    if locale.lower().startswith("zh"):
        return format_date_zh(d)
    return babel_format_date(d, format="long", locale=locale)


def format_signed(points: int) -> str:
    """Format points with an explicit sign: +5, −3 (true minus), 0."""
    if points > 0:
        return f"+{points}"
    if points < 0:
        return f"{MINUS}{-points}"
    return "0"
