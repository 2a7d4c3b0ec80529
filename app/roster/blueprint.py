"""The roster blueprint and what its pages share: group choices, refusals, links."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.routing import BuildError
from wtforms import SelectChoice

from app.extensions import db
from app.web import translate_error
from credits import queries
from credits.access import Permission, has_permission
from credits.errors import DomainError
from credits.models import Household

bp = Blueprint("roster", __name__, cli_group=None)

# Pages of other areas a household page links to, when those areas are installed.
HOUSEHOLD_LINKS = (
    ("cards.household", _l("Household card")),
    ("cards.passbook_pdf", _l("Printed passbook")),
)


def _group_choices() -> list[SelectChoice]:
    groups = queries.groups_of(db.session, g.village.id)
    return [SelectChoice("", _("No group"))] + [SelectChoice(grp.name) for grp in groups]


def _refused(exc: DomainError, form: FlaskForm | None = None) -> None:
    """Flash a refusal and mark each field it concerns."""
    for error in getattr(exc, "errors", None) or [exc]:
        message = translate_error(error)
        flash(message, "error")
        name = getattr(error, "field", None)
        if form is not None and name and name in form._fields:
            form._fields[name].errors = [*form._fields[name].errors, message]


def _invalid_form() -> None:
    flash(_("Some fields need correcting; see the marks below."), "error")


def household_links(household: Household) -> list[tuple[str, str]]:
    """(label, url) of the card and passbook pages, for the areas that exist."""
    links = []
    for endpoint, label in HOUSEHOLD_LINKS:
        if endpoint not in current_app.view_functions:
            continue
        try:
            links.append((str(label), url_for(endpoint, household_id=household.id)))
        except BuildError:
            continue
    return links


def can(permission: Permission) -> bool:
    return has_permission(current_user, permission)
