"""Roster pages for households: the list and search, one household, add, edit, move, deactivate."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.extensions import db
from app.roster.blueprint import _group_choices, _invalid_form, _refused, bp, can, household_links
from app.roster.forms import ActiveForm, HouseholdEditForm, HouseholdForm, MoveForm
from app.scope import owned, require_permission
from app.web import client_ip
from credits import queries, roster, search
from credits.access import Permission
from credits.errors import DomainError
from credits.models import Household


@bp.get("/v/<code>/roster")
def index() -> str:
    """The roster: households found by name, initials, house number or group; works without JS."""
    q = request.args.get("q", "")[: search.MAX_QUERY]
    group_id = request.args.get("group", type=int)
    status = request.args.get("status", "active")
    page = roster.households_page(
        db.session,
        g.village.id,
        q,
        group_id=group_id,
        status=status,
        page=request.args.get("page", 1, type=int),
        per_page=current_app.config.get("PAGE_SIZE", 30),
    )
    return render_template(
        "roster/index.html",
        village=g.village,
        page=page,
        q=q,
        group_id=group_id,
        status=status if status in roster.STATUSES else "active",
        groups=queries.groups_of(db.session, g.village.id),
        can_manage=can(Permission.MANAGE),
        can_import=can(Permission.RECORD),
        can_print=can(Permission.PRINT),
    )


@bp.get("/v/<code>/roster/search")
def search_json() -> Response:
    """As-you-type search: {"households": [household_json, ...]}, best matches first."""
    limit = request.args.get("limit", 10, type=int)
    data = search.search_json(db.session, g.village.id, request.args.get("q", ""), limit)
    response = jsonify(data)
    response.headers["Cache-Control"] = "no-store"
    return response


def _household_page(
    household: Household, *, move: MoveForm | None = None, status: int = 200
) -> Any:
    move = move or MoveForm(formdata=None)
    move.group.choices = _group_choices()
    if not move.is_submitted():
        move.group.data = household.group.name if household.group else ""
    view = roster.household_view(db.session, household)
    return (
        render_template(
            "roster/household.html",
            village=g.village,
            h=household,
            members=view.members,
            needs=view.needs,
            totals=view.totals,
            claims=view.claims,
            entries=view.entries,
            links=household_links(household),
            move=move,
            active_form=ActiveForm(formdata=None),
            can_manage=can(Permission.MANAGE),
            month=view.month,
        ),
        status,
    )


@bp.get("/v/<code>/roster/<int:household_id>")
def household(household_id: int) -> Any:
    """A household: head, group, members, special needs, points, recent claims and entries."""
    return _household_page(owned(Household, household_id))


@bp.route("/v/<code>/roster/new", methods=["GET", "POST"])
def new_household() -> Any:
    """Add a household (its head becomes the first member)."""
    require_permission(Permission.MANAGE)
    form = HouseholdForm()
    form.group.choices = _group_choices()
    if not form.is_submitted():
        form.key.data = uuid.uuid4().hex
    elif form.validate():
        try:
            created = roster.create_household(
                db.session,
                actor=current_user,
                village_id=g.village.id,
                data=roster.HouseholdData(
                    head_name=form.head_name.data or "",
                    house_number=form.house_number.data or "",
                    phone=form.phone.data or "",
                    special_needs=form.special_needs(),
                    group=form.group_name(),
                    head_gender=form.head_gender.data or "",
                    head_birth_year=form.head_birth_year.data or None,
                ),
                idempotency_key=form.key.data or None,
                ip=client_ip(),
            )
        except DomainError as exc:
            db.session.rollback()
            _refused(exc, form)
            return render_template(
                "roster/household_form.html", form=form, village=g.village, h=None
            ), exc.status
        flash(_("The household of %(name)s was added.", name=created.head_name), "success")
        return redirect(url_for("roster.household", household_id=created.id))
    else:
        _invalid_form()
        return render_template(
            "roster/household_form.html", form=form, village=g.village, h=None
        ), 400
    return render_template("roster/household_form.html", form=form, village=g.village, h=None)


@bp.route("/v/<code>/roster/<int:household_id>/edit", methods=["GET", "POST"])
def edit_household(household_id: int) -> Any:
    """Change the head's name, house number, phone and special needs."""
    require_permission(Permission.MANAGE)
    home = owned(Household, household_id)
    form = HouseholdEditForm()
    if not form.is_submitted():
        form.process(obj=home)
        needs = roster.special_needs_of(home)
        form.elderly_alone.data = roster.ELDERLY_ALONE in needs
        form.disabled.data = roster.DISABLED in needs
    elif form.validate():
        try:
            roster.update_household(
                db.session,
                actor=current_user,
                household_id=home.id,
                data=roster.HouseholdData(
                    head_name=form.head_name.data or "",
                    house_number=form.house_number.data or "",
                    phone=form.phone.data or "",
                    special_needs=form.special_needs(),
                ),
                ip=client_ip(),
            )
        except DomainError as exc:
            db.session.rollback()
            _refused(exc, form)
            return render_template(
                "roster/household_form.html", form=form, village=g.village, h=home
            ), exc.status
        flash(_("The household was saved."), "success")
        return redirect(url_for("roster.household", household_id=home.id))
    else:
        _invalid_form()
        return render_template(
            "roster/household_form.html", form=form, village=g.village, h=home
        ), 400
    return render_template("roster/household_form.html", form=form, village=g.village, h=home)


@bp.post("/v/<code>/roster/<int:household_id>/move")
def move_household(household_id: int) -> Any:
    """Move a household to another group."""
    require_permission(Permission.MANAGE)
    home = owned(Household, household_id)
    form = MoveForm()
    form.group.choices = _group_choices()
    if not form.validate():
        _invalid_form()
        return _household_page(home, move=form, status=400)
    try:
        roster.move_household(
            db.session,
            actor=current_user,
            household_id=home.id,
            group=form.group_name(),
            ip=client_ip(),
        )
    except DomainError as exc:
        db.session.rollback()
        _refused(exc, form)
        return _household_page(owned(Household, household_id), move=form, status=exc.status)
    flash(
        _("The household is now in %(group)s.", group=home.group.name if home.group else ""),
        "success",
    )
    return redirect(url_for("roster.household", household_id=home.id))


def _set_active(household_id: int, active: bool) -> Any:
    require_permission(Permission.MANAGE)
    home = owned(Household, household_id)
    form = ActiveForm()
    if not form.validate():
        _invalid_form()
        return _household_page(home, status=400)
    try:
        roster.set_household_active(
            db.session,
            actor=current_user,
            household_id=home.id,
            active=active,
            reason=form.reason.data or "",
            ip=client_ip(),
        )
    except DomainError as exc:
        db.session.rollback()
        _refused(exc)
        return _household_page(owned(Household, household_id), status=exc.status)
    flash(
        _("The household was deactivated.") if not active else _("The household is active again."),
        "success",
    )
    return redirect(url_for("roster.household", household_id=home.id))


@bp.post("/v/<code>/roster/<int:household_id>/deactivate")
def deactivate_household(household_id: int) -> Any:
    """Deactivate a household (nothing is deleted; its history stays)."""
    return _set_active(household_id, False)


@bp.post("/v/<code>/roster/<int:household_id>/reactivate")
def reactivate_household(household_id: int) -> Any:
    """Bring a deactivated household back."""
    return _set_active(household_id, True)
