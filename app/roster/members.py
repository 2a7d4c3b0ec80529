"""Roster pages for members: add, edit, mark as gone or back."""

from __future__ import annotations

import uuid
from typing import Any

from flask import flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import db
from app.roster.blueprint import _invalid_form, _refused, bp
from app.roster.forms import ActiveForm, MemberForm
from app.roster.households import _household_page
from app.scope import owned, require_permission
from app.web import client_ip
from credits import roster
from credits.access import Permission
from credits.errors import DomainError
from credits.models import Household, Member


def _member_data(form: MemberForm) -> roster.MemberData:
    return roster.MemberData(
        name=form.name.data or "",
        relation=form.relation.data or "",
        gender=form.gender.data or "",
        birth_year=form.birth_year.data or None,
        phone=form.phone.data or "",
    )


def _member_form(
    form: MemberForm, home: Household, member: Member | None, status: int = 200
) -> Any:
    return (
        render_template(
            "roster/member_form.html",
            form=form,
            village=g.village,
            h=home,
            member=member,
            relations=roster.RELATIONS,
            member_active=ActiveForm(formdata=None),
        ),
        status,
    )


@bp.route("/v/<code>/roster/<int:household_id>/members/new", methods=["GET", "POST"])
def new_member(household_id: int) -> Any:
    """Add a member to a household."""
    require_permission(Permission.MANAGE)
    home = owned(Household, household_id)
    form = MemberForm()
    if not form.is_submitted():
        form.key.data = uuid.uuid4().hex
        return _member_form(form, home, None)
    if not form.validate():
        _invalid_form()
        return _member_form(form, home, None, 400)
    try:
        member = roster.add_member(
            db.session,
            actor=current_user,
            household_id=home.id,
            data=_member_data(form),
            idempotency_key=form.key.data or None,
            ip=client_ip(),
        )
    except DomainError as exc:
        db.session.rollback()
        _refused(exc, form)
        return _member_form(form, owned(Household, household_id), None, exc.status)
    flash(_("%(name)s was added to the household.", name=member.name), "success")
    return redirect(url_for("roster.household", household_id=home.id))


@bp.route(
    "/v/<code>/roster/<int:household_id>/members/<int:member_id>/edit", methods=["GET", "POST"]
)
def edit_member(household_id: int, member_id: int) -> Any:
    """Change a member's name, relation, gender, birth year or phone."""
    require_permission(Permission.MANAGE)
    home = owned(Household, household_id)
    member = owned(Member, member_id)
    if member.household_id != home.id:
        return _member_form(MemberForm(formdata=None), home, None, 404)
    form = MemberForm()
    if not form.is_submitted():
        form.process(obj=member)
        form.birth_year.data = str(member.birth_year) if member.birth_year else ""
        return _member_form(form, home, member)
    if not form.validate():
        _invalid_form()
        return _member_form(form, home, member, 400)
    try:
        roster.update_member(
            db.session,
            actor=current_user,
            member_id=member.id,
            data=_member_data(form),
            ip=client_ip(),
        )
    except DomainError as exc:
        db.session.rollback()
        _refused(exc, form)
        return _member_form(
            form, owned(Household, household_id), owned(Member, member_id), exc.status
        )
    flash(_("The member was saved."), "success")
    return redirect(url_for("roster.household", household_id=home.id))


def _set_member_active(household_id: int, member_id: int, active: bool) -> Any:
    require_permission(Permission.MANAGE)
    home = owned(Household, household_id)
    member = owned(Member, member_id)
    if member.household_id != home.id or not ActiveForm().validate():
        return redirect(url_for("roster.household", household_id=home.id))
    try:
        roster.set_member_active(
            db.session, actor=current_user, member_id=member.id, active=active, ip=client_ip()
        )
    except DomainError as exc:
        db.session.rollback()
        _refused(exc)
        return _household_page(owned(Household, household_id), status=exc.status)
    flash(
        _("%(name)s was marked as no longer in the household.", name=member.name)
        if not active
        else _("%(name)s is in the household again.", name=member.name),
        "success",
    )
    return redirect(url_for("roster.household", household_id=home.id))


@bp.post("/v/<code>/roster/<int:household_id>/members/<int:member_id>/deactivate")
def deactivate_member(household_id: int, member_id: int) -> Any:
    """Mark a member as gone (moved out, deceased)."""
    return _set_member_active(household_id, member_id, False)


@bp.post("/v/<code>/roster/<int:household_id>/members/<int:member_id>/reactivate")
def reactivate_member(household_id: int, member_id: int) -> Any:
    """Bring a member back."""
    return _set_member_active(household_id, member_id, True)
