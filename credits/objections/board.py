"""What may be seen of objections: lists for staff, published outcomes, the audit log's view.

The objector's name and contact are for the supervisory committee (REVIEW) only: a clerk
may have recorded the very claim objected to, and a township admin has no part in it.
The public and the household see each decision and its reason, never who objected.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from credits.access import Permission, has_permission
from credits.models import AuditEvent, Claim, Household, Objection, ObjectionState, User
from credits.privacy import mask_name

DECIDED_DAYS = 30  # the public notice shows decisions of the last month
PASSBOOK_DAYS = 90  # the household's passbook shows its own for a season
# Audit events signed with, or carrying, what an objector gave about themselves.
OBJECTOR_ACTIONS = frozenset({"objection.raise", "objection.record_paper"})
OBJECTOR_FIELDS = ("name", "contact")


def may_see_objector(user: User) -> bool:
    """Tell whether a staff user may see who objected (the supervisory committee)."""
    return has_permission(user, Permission.REVIEW)


# ---- staff lists --------------------------------------------------------------------


@dataclass(frozen=True)
class ObjectionView:
    """An objection as a staff page shows it: the objector only when `objector_shown`."""

    id: int
    claim: Claim
    reason: str
    state: str
    created_at: datetime
    received_by_id: int | None
    resolved_by_id: int | None
    resolved_at: datetime | None
    resolution: str
    name: str
    contact: str
    objector_shown: bool


def objection_views(objections: Iterable[Objection], *, show_objector: bool) -> list[ObjectionView]:
    """Turn objections into views, leaving the objector out unless `show_objector`."""
    return [
        ObjectionView(
            id=o.id,
            claim=o.claim,
            reason=o.reason,
            state=o.state,
            created_at=o.created_at,
            received_by_id=o.received_by_id,
            resolved_by_id=o.resolved_by_id,
            resolved_at=o.resolved_at,
            resolution=o.resolution,
            name=o.name if show_objector else "",
            contact=o.contact if show_objector else "",
            objector_shown=show_objector,
        )
        for o in objections
    ]


def _with_claims(query: Any) -> Any:
    return query.options(
        selectinload(Objection.claim).selectinload(Claim.household),
        selectinload(Objection.claim).selectinload(Claim.rule_version),
        selectinload(Objection.claim).selectinload(Claim.recorded_by),
    )


def open_objections(session: Session, village_id: int) -> list[Objection]:
    """Return a village's open objections, oldest first, with their claims."""
    query = (
        select(Objection)
        .where(Objection.village_id == village_id, Objection.state == ObjectionState.OPEN)
        .order_by(Objection.created_at, Objection.id)
    )
    return list(session.scalars(_with_claims(query)))


def decided_objections(
    session: Session, village_id: int, *, now: datetime, days: int = DECIDED_DAYS
) -> list[Objection]:
    """Return objections decided in the last `days` days, newest first."""
    query = (
        select(Objection)
        .where(
            Objection.village_id == village_id,
            Objection.state != ObjectionState.OPEN,
            Objection.resolved_at >= now - timedelta(days=days),
        )
        .order_by(Objection.resolved_at.desc(), Objection.id.desc())
    )
    return list(session.scalars(_with_claims(query)))


# ---- published outcomes -------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """One decision of the committee on a claim: upheld or dismissed, and why."""

    state: str  # ObjectionState.UPHELD | DISMISSED
    reason: str
    decided_at: datetime  # stored time (naive UTC)

    @property
    def upheld(self) -> bool:
        return self.state == ObjectionState.UPHELD


def outcomes_of(objections: Iterable[Objection]) -> tuple[Outcome, ...]:
    """The distinct decisions on one claim, oldest first (an uphold closes several at once)."""
    seen: dict[tuple[str, str, datetime], Outcome] = {}
    for o in objections:
        if o.state == ObjectionState.OPEN or o.resolved_at is None:
            continue
        key = (o.state, o.resolution, o.resolved_at)
        seen.setdefault(key, Outcome(o.state, o.resolution, o.resolved_at))
    return tuple(sorted(seen.values(), key=lambda x: x.decided_at))


@dataclass(frozen=True)
class DecidedItem:
    """A published decision on an objection, with nothing personal beyond a masked name."""

    claim_id: int
    scheme_id: int
    scheme_name: str
    household: str  # the head's masked name
    house_number: str
    group_name: str
    title: str
    points: int
    deed_date: date
    claim_state: str
    outcome: Outcome


def recent_outcomes(
    session: Session,
    village_id: int,
    *,
    now: datetime,
    scheme_id: int | None = None,
    group_id: int | None = None,
    household_id: int | None = None,
    days: int = DECIDED_DAYS,
) -> list[DecidedItem]:
    """Return the decisions on objections of the last `days` days, newest first."""
    query = (
        select(Objection)
        .join(Claim, Claim.id == Objection.claim_id)
        .where(
            Objection.village_id == village_id,
            Objection.state != ObjectionState.OPEN,
            Objection.resolved_at >= now - timedelta(days=days),
        )
        .options(
            selectinload(Objection.claim)
            .selectinload(Claim.household)
            .selectinload(Household.group),
            selectinload(Objection.claim).selectinload(Claim.rule_version),
            selectinload(Objection.claim).selectinload(Claim.scheme),
        )
    )
    if scheme_id is not None:
        query = query.where(Claim.scheme_id == scheme_id)
    if household_id is not None:
        query = query.where(Claim.household_id == household_id)
    if group_id is not None:
        query = query.join(Household, Household.id == Claim.household_id).where(
            Household.group_id == group_id
        )
    by_claim: dict[int, list[Objection]] = {}
    for objection in session.scalars(query):
        by_claim.setdefault(objection.claim_id, []).append(objection)
    items: list[DecidedItem] = []
    for objections in by_claim.values():
        claim = objections[0].claim
        household = claim.household
        for outcome in outcomes_of(objections):
            items.append(
                DecidedItem(
                    claim_id=claim.id,
                    scheme_id=claim.scheme_id,
                    scheme_name=claim.scheme.name,
                    household=mask_name(household.head_name),
                    house_number=household.house_number,
                    group_name=household.group.name if household.group else "",
                    title=claim.rule_version.title,
                    points=claim.points,
                    deed_date=claim.deed_date,
                    claim_state=claim.state,
                    outcome=outcome,
                )
            )
    items.sort(key=lambda i: (i.outcome.decided_at, i.claim_id), reverse=True)
    return items


def household_outcomes(
    session: Session, household: Household, *, now: datetime, days: int = PASSBOOK_DAYS
) -> list[DecidedItem]:
    """Return the decisions on objections to one household's claims, for its passbook."""
    return recent_outcomes(
        session, household.village_id, now=now, household_id=household.id, days=days
    )


# ---- the audit log ------------------------------------------------------------------


@dataclass(frozen=True)
class AuditLine:
    """An audit event as a reader may see it: objectors left out for non-reviewers."""

    id: int
    at: datetime
    actor_id: int | None
    actor_name: str
    action: str
    object_type: str
    object_id: int | None
    ip: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    objector_hidden: bool


def _without_objector(values: dict[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    return {k: v for k, v in values.items() if k not in OBJECTOR_FIELDS}


def audit_line(event: AuditEvent, *, show_objector: bool) -> AuditLine:
    """Return an audit event for display; hide who objected unless `show_objector`."""
    hide = not show_objector and event.action in OBJECTOR_ACTIONS
    return AuditLine(
        id=event.id,
        at=event.at,
        actor_id=event.actor_id,
        # An online objection is signed with the objector's own name.
        actor_name="" if hide and event.actor_id is None else event.actor_name,
        action=event.action,
        object_type=event.object_type,
        object_id=event.object_id,
        ip="" if hide else event.ip,
        before=_without_objector(event.before) if hide else event.before,
        after=_without_objector(event.after) if hide else event.after,
        objector_hidden=hide,
    )
