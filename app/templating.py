"""Template context shared by every page: locale, bottom tab bar, date and points filters."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask, current_app, g, request, url_for
from flask_babel import get_locale, gettext, to_user_timezone
from flask_login import current_user

from app.web import print_address
from credits.access import Permission, has_permission
from credits.i18n import N_

DEFAULT_LOCALE = "zh_CN"

# Bottom tab bar, in display order; a tab shows only when its blueprint is registered.
# A tab shows only to users whose role may open it (a cashier sees no 记分 or 审核 tab).
NAV_ENDPOINTS: tuple[tuple[str, str, Permission], ...] = (
    ("village.home", N_("Home"), Permission.VIEW),
    ("record.index", N_("Record"), Permission.RECORD),
    ("review.index", N_("Review"), Permission.REVIEW),
    ("notice.index", N_("Notice"), Permission.VIEW),
    ("roster.index", N_("Roster"), Permission.VIEW),
    ("shop.index", N_("Shop"), Permission.SHOP),
)

MINUS = "\u2212"  # a real minus sign reads better than a hyphen next to big digits


def locale_code() -> str:
    """Return the active locale as "zh_CN" or "en"."""
    locale = get_locale()
    if locale is None or locale.language == "zh":
        return DEFAULT_LOCALE
    return "en"


def nav_items() -> list[tuple[str, str, bool]]:
    """Return (label, url, active) for the tabs of the current village."""
    village = g.get("village")
    if village is None:
        return []
    current = request.endpoint or ""
    items = []
    for endpoint, label, permission in NAV_ENDPOINTS:
        if endpoint not in current_app.view_functions:
            continue
        if not current_user.is_authenticated or not has_permission(current_user, permission):
            continue
        blueprint = endpoint.split(".", 1)[0]
        url = url_for(endpoint, code=village.code)
        items.append((gettext(label), url, current.startswith(blueprint + ".")))
    return items


def zh_date(value: date | datetime | None, with_time: bool = False) -> str:
    """Format a date as 2026年11月26日 in Chinese and 2026-11-26 otherwise."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_user_timezone(value)  # stored datetimes are naive UTC
    day = value.date() if isinstance(value, datetime) else value
    if locale_code() == DEFAULT_LOCALE:
        text = f"{day.year}年{day.month}月{day.day}日"
    else:
        text = day.isoformat()
    if with_time and isinstance(value, datetime):
        text += value.strftime(" %H:%M")
    return text


def signed(value: int | None) -> str:
    """Write points with an explicit sign: +5, −5 or 0."""
    if value is None:
        return ""
    if value > 0:
        return f"+{value}"
    if value < 0:
        return f"{MINUS}{-value}"
    return "0"


def template_context() -> dict[str, object]:
    """Provide the locale pair and the tab bar builder to every template."""
    current = locale_code()
    return {
        "current_locale": current,
        "other_locale": "en" if current == DEFAULT_LOCALE else DEFAULT_LOCALE,
        "nav_items": nav_items,
    }


def init_app(app: Flask) -> None:
    """Register the context processor and the Jinja filters."""
    app.context_processor(template_context)
    app.add_template_global(print_address, "print_address")
    app.add_template_filter(zh_date, "zh_date")
    app.add_template_filter(signed, "signed")
