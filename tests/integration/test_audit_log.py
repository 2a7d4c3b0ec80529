"""The audit log service: filters by village day, a literal actor search, permission, the export."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import pytest
from conftest import VillageWorld
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from credits import audit
from credits.audit_log import AuditFilter, audit_page, csv_name, export_csv
from credits.errors import PermissionDenied
from credits.models import AuditEvent


def log(session: Session, world: VillageWorld, action: str, at: datetime, name: str) -> None:
    audit.log(session, action, actor=None, actor_name=name, village_id=world.village.id, at=at)


@pytest.fixture
def logged(session: Session, world: VillageWorld) -> VillageWorld:
    # 2026-11-30 23:30 in the village is 15:30 UTC; 2026-12-01 00:30 is 16:30 UTC the day before.
    log(session, world, "member.update", datetime(2026, 11, 30, 15, 30), "王_会计")
    log(session, world, "member.update", datetime(2026, 11, 30, 16, 30), "王会计")
    log(session, world, "rule.change", datetime(2026, 12, 1, 3, 0), "100%村主任")
    session.commit()
    return world


def test_filters_read_from_a_query_string_ignore_bad_dates_and_cut_long_text() -> None:
    filters = AuditFilter.from_args(
        {"action": "x" * 80, "actor": "  王 ", "from": "2026-12-01", "to": "not-a-date"}
    )
    assert filters.action == "x" * 50 and filters.actor == "王"
    assert filters.start == date(2026, 12, 1) and filters.end is None
    assert filters.params() == {"action": "x" * 50, "actor": "王", "from": "2026-12-01"}


def test_days_are_village_days_and_the_actor_search_is_literal(
    session: Session, logged: VillageWorld
) -> None:
    admin = logged.users["admin"]

    def names(**args: str) -> list[str]:
        page = audit_page(session, admin, logged.village, AuditFilter.from_args(args))
        return [e.actor_name for e in page.events.items if e.action != "login"]

    assert names(**{"from": "2026-12-01", "to": "2026-12-01"}) == ["100%村主任", "王会计"]
    assert names(**{"to": "2026-11-30"})[:1] == ["王_会计"]
    assert names(actor="_") == ["王_会计"]  # not a LIKE wildcard
    assert names(actor="%") == ["100%村主任"]
    page = audit_page(session, admin, logged.village, AuditFilter())
    assert {"member.update", "rule.change"} <= set(page.actions)


@pytest.mark.parametrize("role", ["clerk", "reviewer", "cashier"])
def test_only_auditors_read_or_export_the_log(
    session: Session, logged: VillageWorld, role: str
) -> None:
    user = logged.users[role]
    before = session.scalar(select(func.count(AuditEvent.id)))
    with pytest.raises(PermissionDenied):
        audit_page(session, user, logged.village, AuditFilter())
    with pytest.raises(PermissionDenied):
        export_csv(session, user, logged.village, AuditFilter())
    session.rollback()
    assert session.scalar(select(func.count(AuditEvent.id))) == before


def test_the_export_audits_itself_once_then_streams_the_filtered_events(
    session: Session, logged: VillageWorld
) -> None:
    admin = logged.users["admin"]
    filters = AuditFilter.from_args({"action": "member.update"})
    chunks = export_csv(session, admin, logged.village, filters, ip="10.0.0.9")
    exported = session.scalars(select(AuditEvent).where(AuditEvent.action == "audit.export")).all()
    assert [(e.ip, e.after) for e in exported] == [("10.0.0.9", {"action": "member.update"})]
    body = "".join(chunks)
    assert body.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(body[1:])))
    assert [r["actor"] for r in rows] == ["王会计", "王_会计"]
    assert rows[0]["time"] == "2026-12-01T00:30:00+08:00"
    assert csv_name(logged.village, date(2026, 12, 1)) == "audit-VA-2026-12-01.csv"
