"""The audit log for a village's administrators."""

from __future__ import annotations

from flask import Blueprint, g, render_template, request
from sqlalchemy import select

from app.extensions import db
from app.scope import require_permission
from credits.access import Permission
from credits.models import AuditEvent
from credits.paging import paginate

bp = Blueprint("admin", __name__)


@bp.get("/v/<code>/audit")
def audit() -> str:
    """List the village's audit events, newest first, filtered by action and actor."""
    require_permission(Permission.AUDIT)
    action = request.args.get("action", "")[:50]
    actor = request.args.get("actor", "")[:50]
    query = select(AuditEvent).where(AuditEvent.village_id == g.village.id)
    if action:
        query = query.where(AuditEvent.action == action)
    if actor:
        query = query.where(AuditEvent.actor_name.like(f"%{actor}%"))
    page = paginate(
        db.session, query.order_by(AuditEvent.id.desc()), request.args.get("page", 1, type=int), 50
    )
    actions = db.session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.village_id == g.village.id)
        .distinct()
        .order_by(AuditEvent.action)
    ).all()
    return render_template(
        "admin/audit.html",
        village=g.village,
        page=page,
        actions=actions,
        action=action,
        actor=actor,
    )
