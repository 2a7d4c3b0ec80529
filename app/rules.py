"""Editing a scheme's rules catalogue (village admins); every change is a new rule version."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import BooleanField, IntegerField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.extensions import db
from app.scope import owned, require_permission
from app.web import client_ip, translate_error
from credits.access import Permission
from credits.errors import DomainError
from credits.models import Rule, Scheme
from credits.rules import RuleInput, change_rule, create_rule, set_rule_active

bp = Blueprint("rules", __name__)


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class RuleForm(FlaskForm):
    category = StringField(
        _l("Category"), validators=[DataRequired(), Length(max=20)], filters=[_strip]
    )
    title = StringField(
        _l("What the deed is"), validators=[DataRequired(), Length(max=60)], filters=[_strip]
    )
    points = IntegerField(
        _l("Points (a negative number for a deduction)"),
        validators=[InputRequired(), NumberRange(min=-1000, max=1000)],
    )
    cap_month = IntegerField(
        _l("At most this many points a month per household"),
        validators=[Optional(), NumberRange(min=1, max=100000)],
    )
    cap_year = IntegerField(
        _l("At most this many points a year per household"),
        validators=[Optional(), NumberRange(min=1, max=100000)],
    )
    evidence_required = BooleanField(_l("A photo is required as evidence"))
    red_line = BooleanField(_l("Red line (a grave offence)"))

    def rule_input(self) -> RuleInput:
        return RuleInput(
            category=self.category.data or "",
            title=self.title.data or "",
            points=self.points.data or 0,
            cap_month=self.cap_month.data,
            cap_year=self.cap_year.data,
            evidence_required=bool(self.evidence_required.data),
            red_line=bool(self.red_line.data),
        )


def _form_page(form: RuleForm, scheme: Scheme, rule: Rule | None, status: int) -> tuple[str, int]:
    return render_template(
        "village/rule_form.html", village=g.village, scheme=scheme, rule=rule, form=form
    ), status


@bp.route("/v/<code>/schemes/<int:scheme_id>/rules/new", methods=["GET", "POST"])
def new(scheme_id: int) -> Response | tuple[str, int]:
    """Add a rule to a scheme."""
    require_permission(Permission.MANAGE)
    scheme = owned(Scheme, scheme_id)
    form = RuleForm()
    if form.validate_on_submit():
        try:
            create_rule(
                db.session,
                actor=current_user,
                scheme_id=scheme.id,
                data=form.rule_input(),
                ip=client_ip(),
            )
        except DomainError as exc:
            flash(translate_error(exc), "error")
            return _form_page(form, scheme, None, exc.status)
        flash(_("The rule was added."), "success")
        return redirect(url_for("village.rules", scheme_id=scheme.id))
    return _form_page(form, scheme, None, 400 if form.is_submitted() else 200)


@bp.route("/v/<code>/rules/<int:rule_id>/edit", methods=["GET", "POST"])
def edit(rule_id: int) -> Response | tuple[str, int]:
    """Change a rule: a new version; entries made under earlier versions keep theirs."""
    require_permission(Permission.MANAGE)
    rule = owned(Rule, rule_id)
    form = RuleForm(obj=rule)
    if form.validate_on_submit():
        try:
            change_rule(
                db.session,
                actor=current_user,
                rule_id=rule.id,
                data=form.rule_input(),
                ip=client_ip(),
            )
        except DomainError as exc:
            flash(translate_error(exc), "error")
            return _form_page(form, rule.scheme, rule, exc.status)
        flash(_("The rule was saved as a new version."), "success")
        return redirect(url_for("village.rules", scheme_id=rule.scheme_id))
    return _form_page(form, rule.scheme, rule, 400 if form.is_submitted() else 200)


@bp.post("/v/<code>/rules/<int:rule_id>/active")
def active(rule_id: int) -> Response:
    """Retire a rule from recording, or bring it back."""
    require_permission(Permission.MANAGE)
    rule = owned(Rule, rule_id)
    bring_back = request.form.get("active") == "1"
    if not bring_back and request.form.get("confirm") != "1":
        # Retiring takes a rule off every tablet: one tap is not enough.
        flash(_("Tick the box to confirm that this rule is to be retired."), "error")
        return redirect(url_for("rules.edit", rule_id=rule.id))
    set_rule_active(
        db.session, actor=current_user, rule_id=rule.id, active=bring_back, ip=client_ip()
    )
    if bring_back:
        flash(_("The rule %(title)s is back on the recording page.", title=rule.title), "success")
    else:
        flash(
            _(
                "The rule %(title)s is retired: it no longer shows on the recording page; "
                "its history stays.",
                title=rule.title,
            ),
            "success",
        )
    return redirect(url_for("village.rules", scheme_id=rule.scheme_id))
