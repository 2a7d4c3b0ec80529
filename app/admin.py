"""The audit log for a village's administrators: filters and CSV export."""

from __future__ import annotations

from flask import Blueprint, Response, g, render_template, request, stream_with_context
from flask_babel import gettext
from flask_login import current_user

from app.extensions import db
from app.scope import require_permission
from app.web import client_ip
from credits import audit_log
from credits.access import Permission
from credits.audit import ACTION_LABELS

bp = Blueprint("admin", __name__)


@bp.get("/v/<code>/audit")
def audit() -> str:
    """List the village's audit events, newest first, filtered."""
    require_permission(Permission.AUDIT)
    filters = audit_log.AuditFilter.from_args(request.args)
    found = audit_log.audit_page(
        db.session, current_user, g.village, filters, request.args.get("page", 1, type=int)
    )
    return render_template(
        "admin/audit.html",
        village=g.village,
        page=found.events,
        filters=filters,
        actions=found.actions,
        object_types=found.object_types,
    )


@bp.app_template_filter("action_label")
def action_label(action: str) -> str:
    """Name an audit action in the reader's language."""
    return gettext(ACTION_LABELS[action]) if action in ACTION_LABELS else action


@bp.post("/v/<code>/audit.csv")
def audit_csv() -> Response:
    """Export the filtered audit events as CSV; a POST, since the export itself is audited."""
    require_permission(Permission.AUDIT)
    filters = audit_log.AuditFilter.from_args(request.args)
    chunks = audit_log.export_csv(db.session, current_user, g.village, filters, ip=client_ip())
    name = audit_log.csv_name(g.village)
    return Response(
        stream_with_context(chunks),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
