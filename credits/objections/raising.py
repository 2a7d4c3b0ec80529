"""Raising an objection: who may, how often, and what keeps one from holding a claim twice."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from credits import audit
from credits.access import Permission, can_see_village, check_recusal, has_permission, require
from credits.db import lock_row, utcnow
from credits.errors import (
    DomainError,
    FourEyesError,
    InvalidState,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from credits.i18n import N_
from credits.models import AuditEvent, Claim, ClaimState, Objection, ObjectionState, User

MAX_NAME = 50
MAX_CONTACT = 100
MAX_REASON = 1000
# One connection may send a few objections a day; a village behind one mobile NAT still can.
MAX_OBJECTIONS_PER_IP_DAY = 5
MAX_OBJECTIONS_PER_IP_CLAIM_DAY = 2
# The same objection sent twice within this time (a double tap, a retried request) is one.
DUPLICATE_WINDOW = timedelta(minutes=30)


class TooManyObjections(DomainError):
    code = "rate_limited"
    status = 429
    message = N_(
        "Too many objections were sent from this connection today. Please try again "
        "tomorrow, or tell the village supervisory committee in person."
    )


class AlreadyObjecting(DomainError):
    """The same person already has an open objection to this claim."""

    code = "objection_open"
    status = 409
    message = N_(
        "Your objection to this item is already being handled by the village supervisory "
        "committee; there is no need to send another. Its decision will be shown on the "
        "notice page."
    )


class AlreadyDecided(DomainError):
    """The committee dismissed an objection to this claim; a new one cannot hold it again."""

    code = "objection_decided"
    status = 409
    message = N_(
        "The village supervisory committee has already decided an objection to this item "
        "and its decision is published on the notice page. If you have new facts, please "
        "contact the village supervisory committee in person."
    )


# ---- checks -------------------------------------------------------------------------


def objector_key(name: str, contact: str) -> tuple[str, str]:
    """Identify an objector: name and contact without spaces, dashes, width or case."""

    def norm(text: str) -> str:
        text = unicodedata.normalize("NFKC", text or "")
        return re.sub(r"[\s\-()（）·.]", "", text).casefold()

    return norm(name), norm(contact)


# Control characters (NUL above all: PostgreSQL cannot store it) other than tab and newline.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _check_text(*texts: str) -> None:
    if any(CONTROL.search(t or "") for t in texts):
        raise ValidationError(
            N_("The text contains invisible control characters; please type it again.")
        )


def _clean(name: str, contact: str, reason: str) -> tuple[str, str, str]:
    """Check and tidy what an objector wrote."""
    _check_text(name, contact, reason)
    name = " ".join((name or "").split())
    contact = " ".join((contact or "").split())
    reason = (reason or "").strip()
    if not name:
        raise ValidationError(N_("Please write your name."))
    if len(name) > MAX_NAME:
        raise ValidationError(N_("The name may have at most %(n)s characters."), n=MAX_NAME)
    if len(contact) > MAX_CONTACT:
        raise ValidationError(
            N_("How to reach you may have at most %(n)s characters."), n=MAX_CONTACT
        )
    if not reason:
        raise ValidationError(N_("Please write what is wrong with this claim."))
    if len(reason) > MAX_REASON:
        raise ValidationError(N_("The reason may have at most %(n)s characters."), n=MAX_REASON)
    return name, contact, reason


def decision_reason(reason: str) -> str:
    """Check the reason a reviewer gives for a decision."""
    _check_text(reason)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(N_("A reason is required to decide an objection."))
    if len(reason) > MAX_REASON:
        raise ValidationError(N_("The reason may have at most %(n)s characters."), n=MAX_REASON)
    return reason


def check_on_notice(claim: Claim, now: datetime) -> None:
    """Refuse unless the claim is on notice and its window is still open."""
    if claim.state != ClaimState.NOTICED:
        raise InvalidState(N_("This claim is not on public notice; objections cannot be raised."))
    if claim.notice_until is None or claim.notice_until <= now:
        raise InvalidState(
            N_(
                "The notice period of this claim has ended; objections are no longer "
                "accepted. Please contact the village supervisory committee."
            )
        )


def check_open_to_objections(claim: Claim, now: datetime) -> None:
    """Refuse a claim off notice, and one whose objection the committee already dismissed."""
    check_on_notice(claim, now)
    if any(o.state == ObjectionState.DISMISSED for o in claim.objections):
        raise AlreadyDecided()


def _claim_on_notice(
    session: Session, claim_id: int, village_id: int | None, now: datetime
) -> Claim:
    """Lock and return a claim that is still in its notice window."""
    claim = session.get(Claim, claim_id)
    if claim is None or (village_id is not None and claim.village_id != village_id):
        raise NotFound(N_("No such claim."))
    # Lock it: a poster must either see this objection or have posted before it.
    lock_row(session, "claim", "id", claim.id)
    session.refresh(claim)
    check_on_notice(claim, now)
    return claim


def _objections_of(session: Session, claim: Claim) -> list[Objection]:
    return list(
        session.scalars(
            select(Objection)
            .where(Objection.village_id == claim.village_id, Objection.claim_id == claim.id)
            .order_by(Objection.id)
            .execution_options(populate_existing=True)
        )
    )


def _recent_duplicate(
    existing: list[Objection], name: str, reason: str, now: datetime
) -> Objection | None:
    """The same objection sent again within minutes (a double tap): the one already stored."""
    for objection in existing:
        if (
            objection.state == ObjectionState.OPEN
            and objection.name == name
            and objection.reason == reason
            and objection.created_at >= now - DUPLICATE_WINDOW
        ):
            return objection
    return None


def _check_may_hold(existing: list[Objection], name: str, contact: str) -> None:
    """Refuse a second open objection by one objector, and any after a dismissal."""
    if any(o.state == ObjectionState.DISMISSED for o in existing):
        raise AlreadyDecided()
    key = objector_key(name, contact)
    if any(
        o.state == ObjectionState.OPEN and objector_key(o.name, o.contact) == key for o in existing
    ):
        raise AlreadyObjecting()


def _check_flood(session: Session, claim: Claim, ip: str, now: datetime) -> None:
    """Refuse a connection that sent too many objections in the last day."""
    since = now - timedelta(days=1)
    sent = (
        select(func.count(AuditEvent.id))
        .where(
            AuditEvent.village_id == claim.village_id,
            AuditEvent.at >= since,
            AuditEvent.action == "objection.raise",
            AuditEvent.ip == ip,
        )
        .scalar_subquery()
    )
    on_claim = (
        select(func.count(AuditEvent.id))
        .join(Objection, Objection.id == AuditEvent.object_id)
        .where(
            AuditEvent.village_id == claim.village_id,
            AuditEvent.at >= since,
            AuditEvent.action == "objection.raise",
            AuditEvent.object_type == "objection",
            AuditEvent.ip == ip,
            Objection.claim_id == claim.id,
        )
        .scalar_subquery()
    )
    total, same_claim = session.execute(select(sent, on_claim)).one()
    if total >= MAX_OBJECTIONS_PER_IP_DAY or same_claim >= MAX_OBJECTIONS_PER_IP_CLAIM_DAY:
        raise TooManyObjections()


def check_decider(session: Session, actor: User, claim: Claim) -> None:
    """REVIEW in the village, not of their own household, not the claim's recorder."""
    require(session, actor, Permission.REVIEW, claim.village_id)
    check_recusal(actor.household_id, claim.household_id)
    if claim.recorded_by_id == actor.id:
        raise FourEyesError(
            N_(
                "The person who recorded a claim may not decide objections to it; "
                "another reviewer must."
            )
        )


# ---- raising ------------------------------------------------------------------------


def raise_objection(
    session: Session,
    *,
    claim_id: int,
    name: str,
    contact: str,
    reason: str,
    ip: str | None = None,
    now: datetime | None = None,
    village_id: int | None = None,
) -> Objection:
    """Let anyone object to a claim on notice (no login); the objection holds the claim."""
    now = now or utcnow()
    name, contact, reason = _clean(name, contact, reason)
    try:
        claim = _claim_on_notice(session, claim_id, village_id, now)
        existing = _objections_of(session, claim)
        duplicate = _recent_duplicate(existing, name, reason, now)
        if duplicate is not None:
            session.rollback()
            return duplicate
        _check_may_hold(existing, name, contact)
        if ip:
            _check_flood(session, claim, ip, now)
    except DomainError:
        session.rollback()
        raise
    return _open_objection(
        session, claim, name, contact, reason, now, action="objection.raise", actor=None, ip=ip
    )


def record_paper_objection(
    session: Session,
    *,
    actor: User,
    claim_id: int,
    name: str,
    contact: str,
    reason: str,
    ip: str | None = None,
    now: datetime | None = None,
) -> Objection:
    """Record an objection a member of staff received on paper or in person."""
    now = now or utcnow()
    try:
        claim = session.get(Claim, claim_id)
        if claim is None:
            raise NotFound(N_("No such claim."))
        allowed = has_permission(actor, Permission.RECORD) or has_permission(
            actor, Permission.REVIEW
        )
        if not allowed or not can_see_village(session, actor, claim.village_id):
            raise PermissionDenied()
        name, contact, reason = _clean(name, contact, reason)
        claim = _claim_on_notice(session, claim_id, claim.village_id, now)
        existing = _objections_of(session, claim)
        duplicate = _recent_duplicate(existing, name, reason, now)
        if duplicate is not None:
            session.rollback()
            return duplicate
        _check_may_hold(existing, name, contact)
    except DomainError:
        session.rollback()
        raise
    return _open_objection(
        session,
        claim,
        name,
        contact,
        reason,
        now,
        action="objection.record_paper",
        actor=actor,
        ip=ip,
    )


def _open_objection(
    session: Session,
    claim: Claim,
    name: str,
    contact: str,
    reason: str,
    now: datetime,
    *,
    action: str,
    actor: User | None,
    ip: str | None,
) -> Objection:
    """Store an open objection (it holds the claim) with its audit event, and commit."""
    objection = Objection(
        village_id=claim.village_id,
        claim_id=claim.id,
        name=name,
        contact=contact,
        reason=reason,
        state=ObjectionState.OPEN,
        received_by_id=actor.id if actor else None,
        created_at=now,
    )
    session.add(objection)
    audit.log(
        session,
        action,
        actor=actor,
        # A villager's objection is signed with the name they gave (shown to reviewers only).
        actor_name=None if actor else name,
        village_id=claim.village_id,
        obj=objection,
        ip=ip,
        at=now,
        after={
            "claim_id": claim.id,
            "name": name,
            "contact": contact,
            "reason": reason,
            "state": ObjectionState.OPEN,
        },
    )
    session.commit()
    return objection
