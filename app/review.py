"""The reviewers' queue: approve or reject claims one by one or ticked in bulk."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from app.extensions import db
from app.record import refusal_text
from app.record_forms import parse_int, parse_ints
from app.scope import owned, require_permission
from app.web import client_ip
from credits import queries
from credits.access import Permission
from credits.errors import DomainError
from credits.models import Claim
from credits.workflow import approve_claim, approve_many, reject_claim, reject_many

bp = Blueprint("review", __name__)
PER_PAGE = 20
FILTERS = ("group", "rule", "recorder")


def _filters() -> dict[str, int]:
    """The queue's filters and page, from the query string or the posted form."""
    values = {name: parse_int(request.values.get(name)) for name in (*FILTERS, "page")}
    return {name: value for name, value in values.items() if value}


def _queue_url() -> str:
    # Back to the first page: decided claims leave the queue and later ones move up.
    filters = {k: v for k, v in _filters().items() if k != "page"}
    return url_for("review.index", **filters)


def _render_queue(status: int = 200) -> tuple[str, int]:
    village = g.village
    filters = _filters()
    page = queries.review_queue(
        db.session,
        village.id,
        group_id=filters.get("group"),
        rule_id=filters.get("rule"),
        recorder_id=filters.get("recorder"),
        page=filters.get("page", 1),
        per_page=PER_PAGE,
    )
    return (
        render_template(
            "review/index.html",
            village=village,
            page=page,
            filters=filters,
            options=queries.review_filters(db.session, village.id),
        ),
        status,
    )


def _render_reason(claim_ids: list[int], status: int = 200) -> tuple[str, int]:
    claims = queries.claims_by_id(db.session, g.village.id, claim_ids)
    return (
        render_template(
            "review/reject.html",
            village=g.village,
            claims=claims,
            filters=_filters(),
            reason=request.form.get("reason", ""),
        ),
        status,
    )


@bp.get("/v/<code>/review")
def index() -> tuple[str, int]:
    """The claims waiting for review, oldest first."""
    require_permission(Permission.REVIEW)
    return _render_queue()


@bp.post("/v/<code>/review/<int:claim_id>/approve")
def approve(claim_id: int) -> Any:
    """Approve one claim: its public notice starts."""
    require_permission(Permission.REVIEW)
    claim = owned(Claim, claim_id)
    try:
        approve_claim(db.session, actor=current_user, claim_id=claim.id, ip=client_ip())
    except DomainError as exc:
        db.session.rollback()
        flash(refusal_text(exc), "error")
        return _render_queue(exc.status)
    flash(_("Approved: %(what)s. Its public notice has started.", what=_label(claim)), "success")
    return redirect(_queue_url(), 303)


@bp.get("/v/<code>/review/<int:claim_id>/reject")
def reject(claim_id: int) -> tuple[str, int]:
    """Ask for the reason to reject one claim (the page behind the sheet)."""
    require_permission(Permission.REVIEW)
    claim = owned(Claim, claim_id)
    return _render_reason([claim.id])


@bp.post("/v/<code>/review/decide")
def decide() -> Any:
    """Approve or reject the ticked claims: all of them, or none when one is refused."""
    require_permission(Permission.REVIEW)
    action = request.form.get("action", "")
    claim_ids = parse_ints(request.form.getlist("c"))
    if action == "reject" and "reason" not in request.form:
        # Without the sheet (no JavaScript): ask for the reason on a page of its own.
        if not claim_ids:
            flash(_("Tick at least one claim."), "error")
            return _render_queue(400)
        return _render_reason(claim_ids)
    if action not in ("approve", "reject"):
        flash(_("Choose approve or reject."), "error")
        return _render_queue(400)
    reason = request.form.get("reason", "")
    try:
        if action == "approve":
            if len(claim_ids) == 1:
                decided = [
                    approve_claim(
                        db.session, actor=current_user, claim_id=claim_ids[0], ip=client_ip()
                    )
                ]
            else:
                decided = approve_many(
                    db.session, actor=current_user, claim_ids=claim_ids, ip=client_ip()
                )
        elif len(claim_ids) == 1:
            decided = [
                reject_claim(
                    db.session,
                    actor=current_user,
                    claim_id=claim_ids[0],
                    reason=reason,
                    ip=client_ip(),
                )
            ]
        else:
            decided = reject_many(
                db.session, actor=current_user, claim_ids=claim_ids, reason=reason, ip=client_ip()
            )
    except DomainError as exc:
        db.session.rollback()
        flash(refusal_text(exc), "error")
        if action == "reject" and request.form.get("from") == "reason-page":
            return _render_reason(claim_ids, exc.status)
        return _render_queue(exc.status)
    n = len(decided)
    if action == "approve":
        message = ngettext(
            "Approved %(num)s claim. Its public notice has started.",
            "Approved %(num)s claims. Their public notice has started.",
            n,
        )
    else:
        message = ngettext("Rejected %(num)s claim.", "Rejected %(num)s claims.", n)
    flash(message, "success")
    return redirect(_queue_url(), 303)


def _label(claim: Claim) -> str:
    return f"{claim.household.head_name} · {claim.rule_version.title}"
