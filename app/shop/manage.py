"""Behind the counter: catalogue, stock-in, adjustments, stock-take, delivery, settings, reports."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from flask import flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.evidence import photo_store
from app.extensions import db
from app.scope import require_permission
from app.shop import bp
from app.shop.helpers import form_int, new_key, refuse, text
from app.web import client_ip
from credits import queries
from credits.access import Permission
from credits.clock import current_period, today
from credits.db import utcnow
from credits.documents.delivery_list import render_delivery_list
from credits.documents.reconciliation import render_reconciliation
from credits.documents.shelf_labels import render_shelf_labels
from credits.errors import DomainError, ValidationError
from credits.evidence import MAX_BYTES
from credits.i18n import N_
from credits.models import Scheme
from credits.shop import catalogue, delivery, reconciliation, stock
from credits.shop.catalogue import ItemInput
from credits.shop.settings import get_settings, parse_yuan, save_settings


def _pdf(data: io.BytesIO, name: str) -> Any:
    data.seek(0)
    return send_file(data, mimetype="application/pdf", download_name=name)


def _schemes() -> list[Scheme]:
    return catalogue.schemes_of(db.session, g.village.id)


def _item_input() -> ItemInput:
    price = form_int("price")
    if price is None:
        raise ValidationError(N_("The price must be a whole number of points from 1 to 100000."))
    limit_raw = text("monthly_limit", 12).strip()
    limit = form_int("monthly_limit")
    if limit_raw and limit is None:
        raise ValidationError(N_("The monthly limit must be a number from 1 to 1000, or empty."))
    value = text("unit_value", 20).strip()
    return ItemInput(
        name=text("name", 200),
        unit=text("unit", 40),
        price=price,
        unit_value_fen=parse_yuan(value)
        if value
        else price * get_settings(db.session, g.village.id).fen_per_point,
        monthly_limit=limit,
        scheme_id=form_int("scheme") or None,
        active=request.form.get("active", "1") == "1",
        position=form_int("position", 0) or 0,
    )


def _photo() -> tuple[str, str] | None:
    upload = request.files.get("photo")
    if not upload or not upload.filename:
        return None
    return catalogue.store_item_photo(
        photo_store(), g.village.id, upload.stream.read(MAX_BYTES + 1)
    )


@bp.route("/v/<code>/shop/items", methods=["GET", "POST"])
def items() -> Any:
    """The catalogue behind the counter; a POST adds an item."""
    require_permission(Permission.SHOP)
    status = 200
    if request.method == "POST":
        try:
            item_id = form_int("item")
            if item_id:
                catalogue.item_of(db.session, g.village.id, item_id)
                catalogue.update_item(
                    db.session,
                    actor=current_user,
                    item_id=item_id,
                    data=_item_input(),
                    photo=_photo(),
                    ip=client_ip(),
                )
            else:
                catalogue.create_item(
                    db.session,
                    actor=current_user,
                    village_id=g.village.id,
                    data=_item_input(),
                    idempotency_key=text("key", 64),
                    photo=_photo(),
                    ip=client_ip(),
                )
            flash(_("The catalogue was saved."), "success")
            return redirect(url_for("shop.items"), 303)
        except DomainError as exc:
            db.session.rollback()
            status = refuse(exc)
    return (
        render_template(
            "shop/items.html",
            village=g.village,
            items=catalogue.items(db.session, g.village.id),
            schemes=_schemes(),
            units=catalogue.UNITS,
            key=new_key(),
            edit=form_int("edit"),
        ),
        status,
    )


@bp.route("/v/<code>/shop/stock", methods=["GET", "POST"])
def stock_page() -> Any:
    """Stock-in with its source and value, adjustments with a reason, the latest moves."""
    require_permission(Permission.SHOP)
    status = 200
    if request.method == "POST":
        try:
            item_id = form_int("item")
            if item_id is None:
                raise ValidationError(N_("Choose an item."))
            if request.form.get("action") == "adjust":
                quantity = form_int("quantity", signed=True)
                stock.adjust(
                    db.session,
                    actor=current_user,
                    village_id=g.village.id,
                    item_id=item_id,
                    quantity=-(quantity or 0)
                    if request.form.get("direction") == "out"
                    else (quantity or 0),
                    reason=text("reason", 500),
                    idempotency_key=text("key", 64),
                    ip=client_ip(),
                )
            else:
                value = text("value", 20).strip()
                stock.stock_in(
                    db.session,
                    actor=current_user,
                    village_id=g.village.id,
                    data=stock.StockIn(
                        item_id=item_id,
                        quantity=form_int("quantity") or 0,
                        source=text("source", 20),
                        value_fen=parse_yuan(value) if value else None,
                        donor_name=text("donor", 200),
                        anonymous=bool(request.form.get("anonymous")),
                        note=text("note", 500),
                    ),
                    idempotency_key=text("key", 64),
                    ip=client_ip(),
                )
            flash(_("The stock was recorded."), "success")
            return redirect(url_for("shop.stock_page"), 303)
        except DomainError as exc:
            db.session.rollback()
            status = refuse(exc)
    return (
        render_template(
            "shop/stock.html",
            village=g.village,
            items=catalogue.items(db.session, g.village.id),
            moves=stock.moves_of(db.session, g.village.id, 40),
            key=new_key(),
        ),
        status,
    )


@bp.route("/v/<code>/shop/stocktake", methods=["GET", "POST"])
def stocktake() -> Any:
    """The stock-take (盘点): type what is on the shelf; differences become adjustments."""
    require_permission(Permission.SHOP)
    status = 200
    if request.method == "POST":
        counted: dict[int, int] = {}
        try:
            for item in catalogue.items(db.session, g.village.id):
                raw = text(f"count-{item.id}", 12).strip()
                if not raw:
                    continue
                value = form_int(f"count-{item.id}")
                if value is None:
                    raise ValidationError(
                        N_("The quantity must be a whole number from 1 to 100000.")
                    )
                counted[item.id] = value
            moves = stock.stock_take(
                db.session,
                actor=current_user,
                village_id=g.village.id,
                counted=counted,
                idempotency_key=text("key", 64) or new_key(),
                ip=client_ip(),
            )
            flash(_("Stock-take saved: %(n)s differences recorded.", n=len(moves)), "success")
            return redirect(url_for("shop.stock_page"), 303)
        except DomainError as exc:
            db.session.rollback()
            status = refuse(exc)
    return (
        render_template(
            "shop/stocktake.html",
            village=g.village,
            items=catalogue.items(db.session, g.village.id),
            key=new_key(),
        ),
        status,
    )


@bp.get("/v/<code>/shop/delivery")
def delivery_page() -> Any:
    """Redemptions to deliver, by group, with the list to print and 送达 to confirm."""
    require_permission(Permission.SHOP)
    return render_template(
        "shop/delivery.html",
        village=g.village,
        waiting=delivery.to_deliver(db.session, g.village.id),
        overdue={r.id for r in delivery.overdue(db.session, g.village.id, utcnow())},
        groups=queries.groups_of(db.session, g.village.id),
        today=today(),
    )


@bp.get("/v/<code>/shop/delivery.pdf")
def delivery_pdf() -> Any:
    require_permission(Permission.SHOP)
    out = io.BytesIO()
    render_delivery_list(db.session, g.village, out, group_id=form_int("group"), now=utcnow())
    return _pdf(out, "delivery.pdf")


@bp.post("/v/<code>/shop/r/<int:redemption_id>/delivered")
def delivered(redemption_id: int) -> Any:
    require_permission(Permission.SHOP)
    try:
        raw = text("delivered_on", 10).strip()
        try:
            day = date.fromisoformat(raw) if raw else None
        except ValueError:
            raise ValidationError(
                N_("The delivery date must lie between the redemption and today.")
            ) from None
        delivery.confirm_delivered(
            db.session,
            actor=current_user,
            village_id=g.village.id,
            redemption_id=redemption_id,
            delivered_on=day,
            delivered_by=text("delivered_by", 100),
            ip=client_ip(),
        )
        flash(_("Delivery confirmed."), "success")
    except DomainError as exc:
        db.session.rollback()
        if refuse(exc) == 404:
            return render_template("errors/404.html"), 404
    return redirect(url_for("shop.delivery_page"), 303)


@bp.get("/v/<code>/shop/labels.pdf")
def labels() -> Any:
    """Shelf labels: an A4 sheet with name, photo and points in large type."""
    require_permission(Permission.SHOP)
    out = io.BytesIO()
    render_shelf_labels(db.session, g.village, out, photos=photo_store())
    return _pdf(out, "shelf-labels.pdf")


def _month() -> int:
    raw = text("month", 10).strip()
    return reconciliation.parse_month(raw) if raw else current_period()


@bp.get("/v/<code>/shop/report")
def report() -> Any:
    """The month's reconciliation on screen, with XLSX, CSV and PDF."""
    require_permission(Permission.SHOP)
    try:
        period = _month()
    except DomainError as exc:
        refuse(exc)
        period = current_period()
    rec = reconciliation.reconcile(db.session, g.village, period)
    return render_template(
        "shop/report.html",
        village=g.village,
        rec=rec,
        month=f"{period // 100}-{period % 100:02d}",
        yuan=reconciliation.yuan,
    )


@bp.get("/v/<code>/shop/report.<fmt>")
def report_file(fmt: str) -> Any:
    require_permission(Permission.SHOP)
    try:
        period = _month()
    except DomainError as exc:
        return refuse(exc) and redirect(url_for("shop.report"), 303)
    rec = reconciliation.reconcile(db.session, g.village, period)
    name = f"shop-{g.village.code}-{period}"
    if fmt == "xlsx":
        return send_file(
            io.BytesIO(reconciliation.to_xlsx(rec)),
            download_name=f"{name}.xlsx",
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    if fmt == "csv":
        return send_file(
            io.BytesIO(reconciliation.to_csv(rec).encode()),
            download_name=f"{name}.csv",
            mimetype="text/csv",
        )
    if fmt == "pdf":
        out = io.BytesIO()
        render_reconciliation(rec, out)
        return _pdf(out, f"{name}.pdf")
    return render_template("errors/404.html"), 404


@bp.route("/v/<code>/shop/settings", methods=["GET", "POST"])
def settings() -> Any:
    """The village's shop settings (admins change them; the cashier sees them)."""
    require_permission(Permission.SHOP)
    status = 200
    if request.method == "POST":
        require_permission(Permission.MANAGE)
        try:
            save_settings(
                db.session,
                actor=current_user,
                village_id=g.village.id,
                balance_mode=text("balance_mode", 20),
                fen_per_point=parse_yuan(text("yuan_per_point", 20)),
                donors_public=bool(request.form.get("donors_public")),
                ip=client_ip(),
            )
            flash(_("The shop settings were saved."), "success")
            return redirect(url_for("shop.settings"), 303)
        except DomainError as exc:
            db.session.rollback()
            status = refuse(exc)
    return (
        render_template(
            "shop/settings.html",
            village=g.village,
            settings=get_settings(db.session, g.village.id),
        ),
        status,
    )
