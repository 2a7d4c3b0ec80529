"""The counter (who, what, confirm), the receipt (80 mm page and A6 PDF) and cancel."""

from __future__ import annotations

import io
from typing import Any

from flask import current_app, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from app.cards import SCAN_MESSAGES
from app.extensions import db
from app.scope import owned, require_permission
from app.shop import bp
from app.shop.helpers import basket_lines, form_int, new_key, refuse, text
from app.web import client_ip
from credits import cards, search
from credits.access import Permission
from credits.db import utcnow
from credits.documents.receipt import render_receipt
from credits.errors import DomainError, ValidationError
from credits.i18n import N_
from credits.models import Household
from credits.privacy import mask_name
from credits.shop.board import counter, receipt
from credits.shop.cancel import cancel_redemption
from credits.shop.redemption import redeem


def _counter_page(household_id: int | None, q: str = "", status: int = 200) -> Any:
    try:
        view = counter(db.session, g.village, household_id, utcnow())
    except DomainError:
        view = counter(db.session, g.village, None, utcnow())
        status = 404
    results = []
    if view.household is None and q.strip():
        results = search.search_json(db.session, g.village.id, q, limit=10)["households"]
    return (
        render_template(
            "shop/counter.html",
            village=g.village,
            view=view,
            q=q,
            results=results,
            key=new_key(),
        ),
        status,
    )


@bp.get("/v/<code>/shop")
def index() -> Any:
    """The counter: step 1 who (scan, card number or search), 2 what, 3 confirm."""
    require_permission(Permission.SHOP)
    household_id = form_int("household")
    scanned = request.args.get("u", "").replace("\x00", "").strip()[:300]
    status = 200
    if scanned:
        result = cards.resolve_in_village(db.session, g.village, scanned)
        if result.household is not None:
            household_id = result.household.id
        else:
            status, message = SCAN_MESSAGES[result.status]
            flash(_(message), "error")
    return _counter_page(household_id, request.args.get("q", "").replace("\x00", "")[:50], status)


@bp.post("/v/<code>/shop/redeem")
def redeem_basket() -> Any:
    """Redeem the basket for the chosen household; then show its receipt."""
    require_permission(Permission.SHOP)
    household_id = form_int("household")
    try:
        if household_id is None:
            raise ValidationError(N_("Choose a household first: scan its card or search for it."))
        owned(Household, household_id)  # another village's household is not found here
        r = redeem(
            db.session,
            actor=current_user,
            household_id=household_id,
            lines=basket_lines(),
            idempotency_key=text("key", 64),
            scheme_id=form_int("scheme"),
            deliver=bool(request.form.get("deliver")) if "deliver-shown" in request.form else None,
            ip=client_ip(),
        )
    except DomainError as exc:
        db.session.rollback()
        status = refuse(exc)
        if status == 404:
            household_id = None
        page, _status = _counter_page(household_id)
        return page, status
    return redirect(url_for("shop.receipt_page", redemption_id=r.id, done=1), 303)


@bp.get("/v/<code>/shop/r/<int:redemption_id>")
def receipt_page(redemption_id: int) -> Any:
    """The receipt as an 80 mm page for roll printers, with 撤销 for the cashier."""
    require_permission(Permission.SHOP)
    try:
        view = receipt(db.session, g.village, redemption_id, utcnow())
    except DomainError:
        return render_template("errors/404.html"), 404
    base = current_app.config.get("BASE_URL") or request.host_url
    return render_template(
        "shop/receipt.html",
        village=g.village,
        view=view,
        r=view.redemption,
        qr_svg=Markup(
            cards.make_qr(cards.issue_url(base, view.redemption.household)).svg_inline(
                scale=4, dark="#1d1b1a"
            )
        ),
        masked=mask_name(view.redemption.household.head_name),
        done=bool(request.args.get("done")),
    )


@bp.get("/v/<code>/shop/r/<int:redemption_id>.pdf")
def receipt_pdf(redemption_id: int) -> Any:
    """The receipt as an A6 PDF."""
    require_permission(Permission.SHOP)
    try:
        view = receipt(db.session, g.village, redemption_id, utcnow())
    except DomainError:
        return render_template("errors/404.html"), 404
    out = io.BytesIO()
    base = current_app.config.get("BASE_URL") or request.host_url
    render_receipt(db.session, view.redemption, out, base_url=base)
    out.seek(0)
    name = f"receipt-{view.redemption.number}.pdf"
    return send_file(out, mimetype="application/pdf", download_name=name)


@bp.post("/v/<code>/shop/r/<int:redemption_id>/cancel")
def cancel(redemption_id: int) -> Any:
    """Cancel a redemption (the same day alone, later with a second person)."""
    require_permission(Permission.SHOP)
    try:
        receipt(db.session, g.village, redemption_id, utcnow())
        cancel_redemption(
            db.session,
            actor=current_user,
            redemption_id=redemption_id,
            reason=text("reason", 500),
            second_username=text("second_username", 50),
            second_password=text("second_password", 200),
            ip=client_ip(),
        )
    except DomainError as exc:
        db.session.rollback()
        status = refuse(exc)
        if status == 404:
            return render_template("errors/404.html"), 404
        return redirect(url_for("shop.receipt_page", redemption_id=redemption_id), 303)
    flash(
        _("The redemption was cancelled: the goods are back in stock, the points returned."),
        "success",
    )
    return redirect(url_for("shop.receipt_page", redemption_id=redemption_id), 303)
