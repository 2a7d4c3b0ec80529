"""Reading a village's audit log: the filters, a page of events, and the CSV export."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from credits import audit, clock
from credits.access import Permission, require
from credits.i18n import N_, gettext
from credits.models import AuditEvent, User, Village
from credits.objections import OBJECTOR_ACTIONS, audit_line, may_see_objector
from credits.objections.board import AuditLine
from credits.paging import Page, paginate

PAGE_SIZE = 50
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


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        return None


@dataclass(frozen=True)
class AuditFilter:
    """The audit page's filters: action, who, object type, and village days from and to."""

    action: str = ""
    actor: str = ""
    object_type: str = ""
    start: date | None = None
    end: date | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> AuditFilter:
        """The filters from a query string (bad dates are ignored, long texts cut)."""
        return cls(
            action=args.get("action", "")[:50],
            actor=args.get("actor", "").strip()[:50],
            object_type=args.get("object_type", "")[:30],
            start=_day(args.get("from", "")),
            end=_day(args.get("to", "")),
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

    def query(self, village_id: int, *, hide_objectors: bool = False) -> Select[Any]:
        """Select the village's events matching the filters, newest first."""
        query = select(AuditEvent).where(AuditEvent.village_id == village_id)
        if self.action:
            query = query.where(AuditEvent.action == self.action)
        if self.actor:
            query = query.where(AuditEvent.actor_name.contains(self.actor, autoescape=True))
            if hide_objectors:
                # Searching by name must not find who objected (reviewers only).
                signed = AuditEvent.action.in_(OBJECTOR_ACTIONS) & AuditEvent.actor_id.is_(None)
                query = query.where(~signed)
        if self.object_type:
            query = query.where(AuditEvent.object_type == self.object_type)
        # Dates are village days; events are stored in UTC.
        if self.start:
            query = query.where(AuditEvent.at >= clock.utc_start_of(self.start))
        if self.end:
            query = query.where(AuditEvent.at < clock.utc_start_of(self.end + timedelta(days=1)))
        return query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


@dataclass
class AuditPage:
    """One page of events, and the actions and object types the village's log holds."""

    events: Page[AuditLine]
    actions: list[str]
    object_types: list[str]


def _distinct(session: Session, village_id: int, column: Any) -> list[str]:
    return list(
        session.scalars(
            select(column)
            .where(AuditEvent.village_id == village_id, column != "")
            .distinct()
            .order_by(column)
        )
    )


def audit_page(
    session: Session, actor: User, village: Village, filters: AuditFilter, page: int = 1
) -> AuditPage:
    """A page of the village's audit events, newest first, for someone who may audit it."""
    require(session, actor, Permission.AUDIT, village.id)
    show = may_see_objector(actor)
    found = paginate(session, filters.query(village.id, hide_objectors=not show), page, PAGE_SIZE)
    return AuditPage(
        events=replace(found, items=[audit_line(e, show_objector=show) for e in found.items]),
        actions=_distinct(session, village.id, AuditEvent.action),
        object_types=_distinct(session, village.id, AuditEvent.object_type),
    )


def _iso(value: datetime) -> str:
    """An event time as ISO 8601 with the village's offset (2026-11-20T17:00:00+08:00)."""
    return value.replace(tzinfo=UTC).astimezone(clock.TIMEZONE).isoformat()


def _cell(text: str) -> str:
    """Keep a spreadsheet from running text typed by the public as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _json(value: dict[str, Any] | None) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True) if value is not None else ""


def csv_name(village: Village, today: date | None = None) -> str:
    """The export's file name: audit-VA-2026-12-01.csv (the village's day)."""
    return f"audit-{village.code}-{(today or clock.today()).isoformat()}.csv"


def export_csv(
    session: Session,
    actor: User,
    village: Village,
    filters: AuditFilter,
    *,
    ip: str | None = None,
) -> Iterator[str]:
    """Audit the export itself (who exported what), commit that, then yield the CSV in chunks.

    The web page asks for it with a POST: a GET never writes. The text is UTF-8 with a BOM,
    so Excel reads Chinese.
    """
    require(session, actor, Permission.AUDIT, village.id)
    audit.log(
        session,
        "audit.export",
        actor=actor,
        village_id=village.id,
        ip=ip,
        after=filters.params(),
    )
    session.commit()
    show = may_see_objector(actor)
    query = filters.query(village.id, hide_objectors=not show).execution_options(yield_per=500)
    return _csv_chunks(session, query, show_objector=show)


HIDDEN_OBJECTOR = N_("Objector (visible to reviewers only)")


def _csv_chunks(session: Session, query: Select[Any], *, show_objector: bool) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(CSV_COLUMNS)
    yield "\ufeff" + flush()
    hidden_name = gettext(HIDDEN_OBJECTOR)
    for stored in session.scalars(query):
        event = audit_line(stored, show_objector=show_objector)
        hidden = event.objector_hidden and event.actor_id is None
        writer.writerow(
            (
                event.id,
                _iso(event.at),
                event.actor_id if event.actor_id is not None else "",
                _cell(hidden_name if hidden else event.actor_name),
                event.action,
                event.object_type,
                event.object_id if event.object_id is not None else "",
                event.ip,
                _json(event.before),
                _json(event.after),
            )
        )
        yield flush()
