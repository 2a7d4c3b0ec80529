"""Staff management for village and region admins: list, add, edit, reset, disable."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from app.extensions import db
from app.scope import require_permission
from app.web import client_ip, translate_error
from credits import staff
from credits.access import Permission
from credits.errors import DomainError
from credits.models import User
from credits.models.user import REGION_ROLES

bp = Blueprint("users", __name__)

ROLE_LABELS = {
    "county_admin": _l("County administrator"),
    "township_admin": _l("Township administrator"),
    "village_admin": _l("Village administrator"),
    "clerk": _l("Clerk"),
    "reviewer": _l("Reviewer"),
    "cashier": _l("Shop cashier"),
}


def _int_or_none(value: Any) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) < 18 else None


class UserForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=50)])
    display_name = StringField(_l("Name shown"), validators=[DataRequired(), Length(max=50)])
    role = SelectField(_l("Role"), choices=[])
    place = SelectField(_l("Village or region"), choices=[])
    household = SelectField(
        _l("Lives in household"),
        choices=[],
        description=_l(
            "Link the user to their own household: they may then neither record nor "
            "review points for it (回避)."
        ),
    )


def _guard() -> None:
    require_permission(Permission.MANAGE_USERS)


def _place_choices() -> list[tuple[str, str]]:
    choices = [(f"v{v.id}", v.name) for v in staff.village_choices(db.session, current_user)]
    choices += [(f"r{r.id}", r.name) for r in staff.region_choices(db.session, current_user)]
    return choices


def _household_choices(village_id: int | None) -> list[tuple[str, str]]:
    options = [("", _("— none —"))]
    if village_id is not None:
        options += [
            (str(h.id), label) for h, label in staff.household_choices(db.session, village_id)
        ]
    return options


def _fill(form: UserForm, *, village_id: int | None, editing: bool) -> None:
    form.role.choices = [(r, str(ROLE_LABELS[r])) for r in staff.allowed_roles(current_user)]
    form.place.choices = _place_choices()
    form.household.choices = _household_choices(village_id)
    if editing:
        del form.username
        del form.place


@bp.get("/users")
@login_required
def index() -> str:
    """List the staff the admin manages, with role, household link and last login."""
    _guard()
    return render_template(
        "users/index.html",
        users=staff.manageable_users(db.session, current_user),
        roles=ROLE_LABELS,
    )


@bp.route("/users/new", methods=["GET", "POST"])
@login_required
def add() -> Response | str | tuple[str, int]:
    """Add a staff user; the one-time password is shown once, on the answer to this form."""
    _guard()
    form = UserForm()
    place = str(request.form.get("place") or request.args.get("place") or "")
    village_id = _int_or_none(place[1:]) if place.startswith("v") else None
    if village_id is None and current_user.village_id is not None:
        village_id = current_user.village_id
    _fill(form, village_id=village_id, editing=False)
    if form.validate_on_submit():
        region_id = _int_or_none(place[1:]) if place.startswith("r") else None
        try:
            user, password = staff.add_staff(
                db.session,
                actor=current_user,
                username=form.username.data or "",
                display_name=form.display_name.data or "",
                role=form.role.data or "",
                village_id=village_id,
                region_id=region_id,
                household_id=_int_or_none(form.household.data),
                ip=client_ip(),
            )
        except DomainError as exc:
            db.session.rollback()
            flash(translate_error(exc), "error")
            return render_template("users/form.html", form=form, user=None), exc.status
        return render_template("users/password.html", user=user, password=password, new=True)
    status = 400 if form.is_submitted() else 200
    return render_template("users/form.html", form=form, user=None), status


def _managed(user_id: int) -> User:
    _guard()
    try:
        return staff.managed_user(db.session, current_user, user_id)
    except DomainError:
        abort(404)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@login_required
def edit(user_id: int) -> Response | str | tuple[str, int]:
    """Change a user's name, role and household link; reset, disable or enable them."""
    user = _managed(user_id)
    form = UserForm(obj=None if request.method == "POST" else user)
    _fill(form, village_id=user.village_id, editing=True)
    if request.method == "GET":
        form.household.data = str(user.household_id or "")
    if form.validate_on_submit():
        try:
            staff.edit_staff(
                db.session,
                actor=current_user,
                user_id=user.id,
                display_name=form.display_name.data or "",
                role=form.role.data or "",
                household_id=_int_or_none(form.household.data),
                ip=client_ip(),
            )
        except DomainError as exc:
            db.session.rollback()
            flash(translate_error(exc), "error")
            return render_template("users/form.html", form=form, user=user), exc.status
        flash(_("Saved."), "success")
        return redirect(url_for("users.index"))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "users/form.html", form=form, user=user, region_role=user.role in REGION_ROLES
    ), status


@bp.post("/users/<int:user_id>/reset")
@login_required
def reset(user_id: int) -> str:
    """Give the user a one-time password, shown once here; their sessions end."""
    user = _managed(user_id)
    password = staff.reset_password(db.session, actor=current_user, user_id=user.id, ip=client_ip())
    return render_template("users/password.html", user=user, password=password, new=False)


@bp.post("/users/<int:user_id>/active")
@login_required
def active(user_id: int) -> Response:
    """Disable (logging the user out everywhere) or re-enable a user."""
    user = _managed(user_id)
    enable = request.form.get("active") == "1"
    staff.set_active(db.session, actor=current_user, user_id=user.id, active=enable, ip=client_ip())
    if enable:
        flash(_("%(name)s can log in again.", name=user.display_name), "success")
    else:
        flash(
            _("%(name)s is disabled and logged out everywhere.", name=user.display_name), "success"
        )
    return redirect(url_for("users.index"))
