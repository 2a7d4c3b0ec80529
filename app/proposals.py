"""Villagers propose deeds from the passbook (no login); clerks confirm or decline them."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import StringField, TextAreaField

from app.extensions import db
from app.passbook import PRIVATE_HEADERS
from app.scope import require_permission
from app.web import client_ip, translate_error
from credits import cards, proposals
from credits.access import Permission
from credits.cards import CardStatus
from credits.clock import today
from credits.errors import DomainError, NotFound, ValidationError
from credits.i18n import N_
from credits.models import Household

bp = Blueprint("proposals", __name__)


class ProposalForm(FlaskForm):
    rule = StringField()
    deed_date = StringField()
    note = TextAreaField()
    name = StringField()
    phone = StringField()


class DeclineForm(FlaskForm):
    reason = TextAreaField()


def _household(token: str) -> Household:
    result = cards.resolve(db.session, token[:200])
    if result.status != CardStatus.OK or result.household is None:
        abort(404)
    return result.household


def _number(text: str | None) -> int:
    text = (text or "").strip()
    if not text.isdigit() or not text.isascii():
        raise ValidationError(N_("Choose an item from the list."))
    if len(text) > 10:
        raise NotFound(N_("No such item in this village's rules."))
    return int(text)


def _day(text: str | None) -> date:
    try:
        return date.fromisoformat((text or "").strip()[:10])
    except ValueError:
        raise ValidationError(N_("Write the date like 2026-11-20.")) from None


@bp.route("/c/<token>/propose", methods=["GET", "POST"])
def propose(token: str) -> Response | tuple[str, int, dict[str, str]]:
    """Let a household propose a deed for the clerks to record (申报)."""
    household = _household(token)
    form = ProposalForm()
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            flash(_("The form expired. Please send it again."), "error")
            status = 400
        else:
            try:
                proposals.propose(
                    db.session,
                    household,
                    proposals.ProposalInput(
                        rule_id=_number(form.rule.data),
                        deed_date=_day(form.deed_date.data),
                        note=form.note.data or "",
                        name=form.name.data or "",
                        phone=form.phone.data or "",
                    ),
                    ip=client_ip(),
                )
            except DomainError as exc:
                db.session.rollback()
                if exc.status == 404:
                    abort(404)
                flash(translate_error(exc), "error")
                status = exc.status
            else:
                flash(_("Sent. A clerk will look at it; your passbook shows its state."), "success")
                return redirect(url_for("passbook.show", token=token) + "#pb-proposals")
    return (
        render_template(
            "proposals/propose.html",
            token=token,
            form=form,
            village=household.village,
            rules=proposals.proposable_rules(db.session, household.village_id),
            today=today(),
            sent=proposals.for_household(db.session, household),
        ),
        status,
        PRIVATE_HEADERS,
    )


@bp.get("/v/<code>/proposals")
def queue() -> str:
    """The villagers' proposals waiting for a clerk."""
    require_permission(Permission.RECORD)
    return render_template(
        "proposals/queue.html",
        village=g.village,
        items=proposals.queue(db.session, current_user, g.village.id),
        form=DeclineForm(),
    )


def _decided(run) -> Response:  # type: ignore[no-untyped-def]
    require_permission(Permission.RECORD)
    form = DeclineForm()
    if not form.validate_on_submit():
        flash(_("The form expired. Please send it again."), "error")
        return redirect(url_for("proposals.queue"))
    try:
        message = run(form)
    except DomainError as exc:
        db.session.rollback()
        if exc.status == 404:
            abort(404)
        flash(translate_error(exc), "error")
    else:
        flash(message, "success")
    return redirect(url_for("proposals.queue"))


@bp.post("/v/<code>/proposals/<int:proposal_id>/confirm")
def confirm(proposal_id: int) -> Response:
    """Record the proposal as a claim (it then goes to review like any other)."""

    def run(_form: DeclineForm) -> str:
        proposals.confirm(
            db.session,
            actor=current_user,
            village_id=g.village.id,
            proposal_id=proposal_id,
            ip=client_ip(),
        )
        return _("Recorded as a claim; it now waits for review.")

    return _decided(run)


@bp.post("/v/<code>/proposals/<int:proposal_id>/decline")
def decline(proposal_id: int) -> Response:
    """Decline the proposal with a reason the household will read."""

    def run(form: DeclineForm) -> str:
        proposals.decline(
            db.session,
            actor=current_user,
            village_id=g.village.id,
            proposal_id=proposal_id,
            reason=form.reason.data or "",
            ip=client_ip(),
        )
        return _("Declined; the household sees the reason on its passbook.")

    return _decided(run)
