"""The one place staff scope is enforced: every URL with a `<code>` is a village's.

Any route whose URL holds `<code>` needs a logged-in user who may see that village;
views then fetch objects with `owned()`, which refuses objects of any other village.
"""

from __future__ import annotations

from typing import Any, TypeVar

from flask import Flask, abort, current_app, g
from flask_login import current_user
from sqlalchemy import select

from app.extensions import db, login_manager
from credits.access import Permission, can_see_village, has_permission
from credits.models import Village

T = TypeVar("T")
MAX_ID = 2**31 - 1


def _pull_code(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    if values and "code" in values:
        g.village_code = values.pop("code")


def _push_code(endpoint: str, values: dict[str, Any]) -> None:
    village = g.get("village")
    if village is not None and "code" not in values:
        rule = _rule_for(endpoint)
        if rule is not None and "code" in rule.arguments:
            values["code"] = village.code


def _rule_for(endpoint: str) -> Any:
    try:
        return next(current_app.url_map.iter_rules(endpoint), None)
    except KeyError:
        return None


def _load_village() -> Any:
    code = g.pop("village_code", None)
    if code is None:
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    village = db.session.scalar(select(Village).where(Village.code == code))
    if village is None:
        abort(404)
    if not can_see_village(db.session, current_user, village.id):
        abort(403)
    g.village = village
    return None


def owned(model: type[T], object_id: int) -> T:
    """Return an object of the current village, or 404 for anything else."""
    if not 0 < object_id <= MAX_ID:
        abort(404)  # no row has it, and SQLite/PostgreSQL integers would overflow
    obj = db.session.get(model, object_id)
    if obj is None or getattr(obj, "village_id", None) != g.village.id:
        abort(404)
    return obj


def require_permission(permission: Permission) -> None:
    """Abort with 403 unless the current user's role carries the permission."""
    if not has_permission(current_user, permission):
        abort(403)


def init_app(app: Flask) -> None:
    """Scope every village URL of the app."""
    app.url_value_preprocessor(_pull_code)
    app.url_defaults(_push_code)
    app.before_request(_load_village)
