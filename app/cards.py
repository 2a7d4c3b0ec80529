"""Household cards for staff: print sheets, a household's card, reissue, revoke, scan."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from werkzeug.wrappers import Response
from wtforms import HiddenField, StringField
from wtforms.validators import Length, Optional

from app.extensions import db
from app.scope import owned, require_permission
from app.templating import locale_code
from app.web import client_ip, translate_error
from credits import cards, queries, search
from credits.access import Permission, has_permission
from credits.cards import CardStatus
from credits.clock import today
from credits.documents.cards import faces_for, print_cards
from credits.documents.passbook import print_passbook
from credits.errors import DomainError, ValidationError
from credits.i18n import N_
from credits.models import Group, Household, Village

bp = Blueprint("cards", __name__, cli_group=None)

SCAN_MESSAGES = {
    CardStatus.INVALID: (
        404,
        N_("This card is not known in this village. Check it and try again."),
    ),
    CardStatus.REPLACED: (
        410,
        N_("This card was replaced by a newer one. Please use the household's new card."),
    ),
    CardStatus.REVOKED: (
        410,
        N_("This card has been revoked. The household can get a new card from the committee."),
    ),
    CardStatus.INACTIVE: (410, N_("This household is deactivated.")),
}


class ReissueForm(FlaskForm):
    expected_version = HiddenField()
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=cards.MAX_REASON)])


class RevokeForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=cards.MAX_REASON)])


def _may_change_cards() -> bool:
    return has_permission(current_user, Permission.RECORD) or has_permission(
        current_user, Permission.MANAGE
    )


def _pdf(data: bytes, filename: str) -> Response:
    return send_file(
        io.BytesIO(data), mimetype="application/pdf", as_attachment=True, download_name=filename
    )


def _group_arg(village: Village) -> Group | None:
    group_id = request.args.get("group", type=int)
    return owned(Group, group_id) if group_id else None


# ---- card sheets ---------------------------------------------------------------------


@bp.get("/v/<code>/cards")
def index() -> str:
    """Choose what to print: the whole village or one group; see warnings first."""
    require_permission(Permission.PRINT)
    village = g.village
    group = _group_arg(village)
    warnings: list[str] = []
    count = 0
    try:
        faces, warnings = faces_for(
            db.session, village, current_app.config["BASE_URL"], group=group, locale=locale_code()
        )
        count = len(faces)
    except DomainError as exc:
        warnings = [translate_error(exc)]
    return render_template(
        "cards/index.html",
        village=village,
        groups=queries.groups_of(db.session, village.id),
        group=group,
        count=count,
        pages=-(-count // 10),
        warnings=warnings,
    )


@bp.get("/v/<code>/cards/sheet.pdf")
def sheet() -> Response:
    """Download the card sheet PDF of the village or one group."""
    require_permission(Permission.PRINT)
    village = g.village
    group = _group_arg(village)
    out = io.BytesIO()
    print_cards(
        db.session,
        village,
        out,
        base_url=current_app.config["BASE_URL"],
        group=group,
        locale=locale_code(),
    )
    suffix = f"-{group.id}" if group else ""
    return _pdf(out.getvalue(), f"cards-{village.code}{suffix}.pdf")


# ---- one household's card ------------------------------------------------------------


def _render_household(
    household: Household,
    *,
    reissue: ReissueForm | None = None,
    revoke: RevokeForm | None = None,
    status: int = 200,
) -> tuple[str, int]:
    url = cards.issue_url(current_app.config["BASE_URL"], household)
    qr = cards.make_qr(url)
    reissue = reissue or ReissueForm(formdata=None, expected_version=household.card_version)
    return render_template(
        "cards/household.html",
        village=g.village,
        household=household,
        card_number=cards.card_number(household),
        url=url,
        qr_svg=Markup(qr.svg_inline(scale=5, dark="#1d1b1a")),
        qr_version=qr.version,
        reissue_form=reissue,
        revoke_form=revoke or RevokeForm(formdata=None),
        may_change=_may_change_cards(),
        may_print=has_permission(current_user, Permission.PRINT),
        schemes=queries.schemes_of(db.session, g.village.id),
        today=today(),
        year_start=date(today().year, 1, 1),
        roster_url=(
            url_for("roster.household", household_id=household.id)
            if "roster.household" in current_app.view_functions
            else None
        ),
    ), status


@bp.get("/v/<code>/households/<int:household_id>/card", endpoint="household")
def household_card(household_id: int) -> tuple[str, int]:
    """A household's card: number, state, QR preview, reissue, revoke and print."""
    return _render_household(owned(Household, household_id))


@bp.post("/v/<code>/households/<int:household_id>/card/reissue")
def reissue(household_id: int) -> Response | tuple[str, int]:
    """Give the household a new card; every older card stops working."""
    household = owned(Household, household_id)
    form = ReissueForm()
    if not form.validate():
        flash(_("Please correct the marked fields."), "error")
        return _render_household(household, reissue=form, status=400)
    expected = form.expected_version.data
    try:
        cards.reissue_card(
            db.session,
            actor=current_user,
            household_id=household.id,
            expected_version=int(expected) if expected and expected.isdigit() else None,
            reason=form.reason.data or "",
            ip=client_ip(),
        )
    except DomainError as exc:
        db.session.rollback()
        flash(translate_error(exc), "error")
        return _render_household(household, reissue=form, status=exc.status)
    flash(
        _(
            "A new card was issued: %(number)s. Older cards of this household no longer work.",
            number=cards.card_number(household),
        ),
        "success",
    )
    return redirect(url_for("cards.household", household_id=household.id))


@bp.post("/v/<code>/households/<int:household_id>/card/revoke")
def revoke(household_id: int) -> Response | tuple[str, int]:
    """Withdraw the household's current card (lost or misused)."""
    household = owned(Household, household_id)
    form = RevokeForm()
    if not form.validate():
        flash(_("Please correct the marked fields."), "error")
        return _render_household(household, revoke=form, status=400)
    try:
        cards.revoke_card(
            db.session,
            actor=current_user,
            household_id=household.id,
            reason=form.reason.data or "",
            ip=client_ip(),
        )
    except DomainError as exc:
        db.session.rollback()
        flash(translate_error(exc), "error")
        return _render_household(household, revoke=form, status=exc.status)
    flash(_("The card was revoked. Reissue it to give the household a new card."), "success")
    return redirect(url_for("cards.household", household_id=household.id))


@bp.get("/v/<code>/households/<int:household_id>/card.pdf")
def household_pdf(household_id: int) -> Response | tuple[str, int]:
    """Print one household's card (a reprint) on an A4 sheet."""
    require_permission(Permission.PRINT)
    household = owned(Household, household_id)
    out = io.BytesIO()
    try:
        print_cards(
            db.session,
            g.village,
            out,
            base_url=current_app.config["BASE_URL"],
            household_id=household.id,
            locale=locale_code(),
        )
    except DomainError as exc:
        db.session.rollback()
        flash(translate_error(exc), "error")
        return _render_household(household, status=exc.status)
    return _pdf(out.getvalue(), f"card-{cards.card_number(household)}.pdf")


def _date_arg(name: str) -> date | None:
    value = (request.args.get(name) or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(N_("Enter dates like 2026-01-31.")) from None


@bp.get("/v/<code>/households/<int:household_id>/passbook.pdf")
def passbook_pdf(household_id: int) -> Response | tuple[str, int]:
    """Print the household's passbook statement for a date range."""
    require_permission(Permission.PRINT)
    household = owned(Household, household_id)
    out = io.BytesIO()
    try:
        print_passbook(
            db.session,
            household,
            out,
            date_from=_date_arg("from"),
            date_to=_date_arg("to"),
            scheme_key=request.args.get("scheme") or None,
            locale=locale_code(),
        )
    except DomainError as exc:
        db.session.rollback()
        flash(translate_error(exc), "error")
        return _render_household(household, status=exc.status)
    return _pdf(out.getvalue(), f"passbook-{cards.card_number(household)}.pdf")


# ---- scanning ------------------------------------------------------------------------


def _scan(text: str) -> tuple[dict[str, Any], int]:
    """Resolve what a scanner read into the household JSON, or a message and a status."""
    text = (text or "").strip()[:300]
    if not text:
        return {"error": _("Scan a card or type a card number.")}, 400
    result = cards.resolve_in_village(db.session, g.village, text)
    if result.household is None:
        status, message = SCAN_MESSAGES[result.status]
        return {"error": _(message), "status": result.status.value}, status
    household = result.household
    points = search.month_points(db.session, g.village.id, [household.id]).get(household.id, 0)
    return {
        "household": search.household_json(household, points),
        "card_url": url_for("cards.household", household_id=household.id),
    }, 200


@bp.get("/v/<code>/cards/resolve")
def resolve() -> tuple[Response, int]:
    """JSON for the scanner: {"household": {...}} or {"error": "..."} with 404/410."""
    body, status = _scan(request.args.get("u", ""))
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response, status


@bp.get("/v/<code>/cards/scan")
def scan() -> tuple[str, int]:
    """Look a card up: camera, photo or a hardware scanner; works without JavaScript too."""
    text = request.args.get("u", "")
    body, status = _scan(text) if text else ({}, 200)
    return render_template("cards/scan.html", village=g.village, result=body, u=text[:300]), status
