"""The audit log for a village's administrators: filters and CSV export."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    render_template,
    request,
    stream_with_context,
)
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import Select, select

from app.extensions import db
from app.scope import require_permission
from app.web import client_ip
from credits.access import Permission
from credits.audit import ACTION_LABELS
from credits.clock import TIMEZONE, today, utc_start_of
from credits.models import AuditEvent
from credits.paging import paginate

bp = Blueprint("admin", __name__)

CSV_COLUMNS = (
    "id",
    "time",
    "actor_id",
    "actor",
    "action",
    "object_type",
    "object_id",
    "ip",
    "before",
    "after",
)


@dataclass(frozen=True)
class AuditFilter:
    """The audit page's filters, read from the query string."""

    action: str = ""
    actor: str = ""
    object_type: str = ""
    start: date | None = None
    end: date | None = None

    @classmethod
    def from_args(cls) -> AuditFilter:
        return cls(
            action=request.args.get("action", "")[:50],
            actor=request.args.get("actor", "").strip()[:50],
            object_type=request.args.get("object_type", "")[:30],
            start=_day(request.args.get("from", "")),
            end=_day(request.args.get("to", "")),
        )

    def params(self) -> dict[str, str]:
        """The filters as query parameters (for pager links and the CSV link)."""
        values = {
            "action": self.action,
            "actor": self.actor,
            "object_type": self.object_type,
            "from": self.start.isoformat() if self.start else "",
            "to": self.end.isoformat() if self.end else "",
        }
        return {k: v for k, v in values.items() if v}

    def query(self, village_id: int) -> Select[Any]:
        """Select the village's events matching the filters, newest first."""
        query = select(AuditEvent).where(AuditEvent.village_id == village_id)
        if self.action:
            query = query.where(AuditEvent.action == self.action)
        if self.actor:
            query = query.where(AuditEvent.actor_name.like(f"%{self.actor}%"))
        if self.object_type:
            query = query.where(AuditEvent.object_type == self.object_type)
        # Dates are village days; events are stored in UTC.
        if self.start:
            query = query.where(AuditEvent.at >= utc_start_of(self.start))
        if self.end:
            query = query.where(AuditEvent.at < utc_start_of(self.end + timedelta(days=1)))
        return query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        return None


def _iso(value: datetime) -> str:
    """An event time as ISO 8601 with the village's offset (2026-11-20T17:00:00+08:00)."""
    return value.replace(tzinfo=UTC).astimezone(TIMEZONE).isoformat()


def _distinct(column: Any) -> list[str]:
    return list(
        db.session.scalars(
            select(column)
            .where(AuditEvent.village_id == g.village.id, column != "")
            .distinct()
            .order_by(column)
        )
    )


@bp.get("/v/<code>/audit")
def audit() -> str:
    """List the village's audit events, newest first, filtered."""
    require_permission(Permission.AUDIT)
    filters = AuditFilter.from_args()
    page = paginate(
        db.session,
        filters.query(g.village.id),
        request.args.get("page", 1, type=int),
        50,
    )
    return render_template(
        "admin/audit.html",
        village=g.village,
        page=page,
        filters=filters,
        actions=_distinct(AuditEvent.action),
        object_types=_distinct(AuditEvent.object_type),
    )


@bp.app_template_filter("action_label")
def action_label(action: str) -> str:
    """Name an audit action in the reader's language."""
    return gettext(ACTION_LABELS[action]) if action in ACTION_LABELS else action


@bp.get("/v/<code>/audit.csv")
def audit_csv() -> Response:
    """Export the filtered audit events as CSV (UTF-8 with BOM, so Excel reads Chinese)."""
    require_permission(Permission.AUDIT)
    filters = AuditFilter.from_args()
    village = g.village
    # Who exported what is worth knowing, but a GET writes nothing (DESIGN §4.10): the log has it.
    current_app.logger.info(
        "audit.export village=%s user=%s ip=%s filters=%s",
        village.code,
        current_user.id,
        client_ip(),
        filters.params(),
    )
    query = filters.query(village.id).execution_options(yield_per=500)

    def rows() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)

        def flush() -> str:
            text = buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            return text

        writer.writerow(CSV_COLUMNS)
        yield "\ufeff" + flush()
        for event in db.session.scalars(query):
            writer.writerow(
                (
                    event.id,
                    _iso(event.at),
                    event.actor_id if event.actor_id is not None else "",
                    _cell(event.actor_name),
                    event.action,
                    event.object_type,
                    event.object_id if event.object_id is not None else "",
                    event.ip,
                    _json(event.before),
                    _json(event.after),
                )
            )
            yield flush()

    day = today().isoformat()
    return Response(
        stream_with_context(rows()),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="audit-{village.code}-{day}.csv"',
            "Cache-Control": "no-store",
        },
    )


def _cell(text: str) -> str:
    """Keep a spreadsheet from running text typed by the public as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _json(value: dict[str, Any] | None) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True) if value is not None else ""
