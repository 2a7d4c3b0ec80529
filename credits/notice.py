"""Public notice (公示): what the village sees, objections, their resolution and corrections."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

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
from credits.ledger import head_code
from credits.models import (
    AuditEvent,
    Claim,
    ClaimState,
    EntryKind,
    Group,
    Household,
    LedgerEntry,
    Objection,
    ObjectionState,
    User,
    Village,
)
from credits.paging import Page, paginate
from credits.privacy import mask_name
from credits.workflow import has_open_objection, post_due

MAX_NAME = 50
MAX_CONTACT = 100
MAX_REASON = 1000
# One connection may send a few objections a day; a village behind one mobile NAT still can.
MAX_OBJECTIONS_PER_IP_DAY = 5
MAX_OBJECTIONS_PER_IP_CLAIM_DAY = 2
# The same objection sent twice within this time (a double tap, a retried request) is one.
DUPLICATE_WINDOW = timedelta(minutes=30)
CORRECTIONS_DAYS = 30


class TooManyObjections(DomainError):
    code = "rate_limited"
    status = 429
    message = N_(
        "Too many objections were sent from this connection today. Please try again "
        "tomorrow, or tell the village supervisory committee in person."
    )


def _house_key(house_number: str) -> tuple[int, str]:
    """Sort 2号 before 10号: the first number in a house number, then the text."""
    match = re.search(r"\d+", house_number or "")
    return (int(match.group()) if match else 1 << 30, house_number or "")


# ---- what the notice board shows ----------------------------------------------------


@dataclass(frozen=True)
class NoticeItem:
    """One claim on public notice, with nothing personal beyond a masked name."""

    claim_id: int
    scheme_id: int
    scheme_name: str
    household: str  # the head's masked name
    house_number: str
    group_name: str
    member: str  # masked name of the member who did the deed, or ""
    category: str
    rule_title: str
    points: int
    deed_date: date
    notice_start: datetime  # stored time (naive UTC); printouts convert with to_local
    notice_end: datetime
    recorder: str  # staff display name (printed on the sheet)
    held: bool  # an open objection holds it
    is_correction: bool = False  # 更正: the claim reverses a posted entry (points negated)
    reason: str = ""  # a correction's reason, shown publicly with it


@dataclass(frozen=True)
class CorrectionItem:
    """A recent correction the village must see: a reversal, or a claim stopped by objection."""

    kind: str  # "reversal" | "withdrawn"
    scheme_id: int
    household: str
    house_number: str
    group_name: str
    title: str
    points: int  # the change it makes (a reversal's points; 0 for a withdrawn claim)
    original_points: int
    deed_date: date
    at: datetime  # stored time (naive UTC)
    reason: str


@dataclass
class NoticeBoard:
    """The claims on notice and the recent corrections of a village (or scheme, or group)."""

    items: list[NoticeItem] = field(default_factory=list)
    corrections: list[CorrectionItem] = field(default_factory=list)
    ledger_code: str = ""

    @property
    def window(self) -> tuple[datetime, datetime] | None:
        """The first notice start and the last notice end (stored UTC), if any."""
        if not self.items:
            return None
        return (
            min(i.notice_start for i in self.items),
            max(i.notice_end for i in self.items),
        )

    def for_scheme(self, scheme_id: int) -> list[NoticeItem]:
        return [i for i in self.items if i.scheme_id == scheme_id]


def claims_in_notice(
    session: Session,
    village_id: int,
    *,
    now: datetime,
    scheme_id: int | None = None,
    group_id: int | None = None,
) -> list[Claim]:
    """Return claims in their notice window, or past it but held by an open objection."""
    open_objection = (
        select(Objection.id)
        .where(
            Objection.village_id == village_id,
            Objection.claim_id == Claim.id,
            Objection.state == ObjectionState.OPEN,
        )
        .exists()
    )
    query = (
        select(Claim)
        .where(
            Claim.village_id == village_id,
            Claim.state == ClaimState.NOTICED,
            or_(Claim.notice_until > now, open_objection),
        )
        .options(
            selectinload(Claim.household).selectinload(Household.group),
            selectinload(Claim.member),
            selectinload(Claim.rule_version),
            selectinload(Claim.recorded_by),
            selectinload(Claim.scheme),
            selectinload(Claim.objections),
        )
    )
    if scheme_id is not None:
        query = query.where(Claim.scheme_id == scheme_id)
    if group_id is not None:
        query = query.join(Household, Household.id == Claim.household_id).where(
            Household.group_id == group_id
        )
    claims = list(session.scalars(query))

    def key(c: Claim) -> tuple[Any, ...]:
        group = c.household.group
        return (
            c.scheme_id,
            group.position if group else 1 << 30,
            _house_key(c.household.house_number),
            c.household_id,
            c.deed_date,
            c.id,
        )

    return sorted(claims, key=key)


def _notice_item(claim: Claim) -> NoticeItem:
    assert claim.notice_until is not None
    household = claim.household
    return NoticeItem(
        claim_id=claim.id,
        scheme_id=claim.scheme_id,
        scheme_name=claim.scheme.name,
        household=mask_name(household.head_name),
        house_number=household.house_number,
        group_name=household.group.name if household.group else "",
        member=mask_name(claim.member.name) if claim.member else "",
        category=claim.rule_version.category,
        rule_title=claim.rule_version.title,
        points=claim.points,
        deed_date=claim.deed_date,
        notice_start=claim.reviewed_at or claim.recorded_at,
        notice_end=claim.notice_until,
        recorder=claim.recorded_by.display_name if claim.recorded_by else "",
        held=any(o.state == ObjectionState.OPEN for o in claim.objections),
        is_correction=claim.is_correction,
        reason=claim.note if claim.is_correction else "",
    )


def recent_corrections(
    session: Session,
    village_id: int,
    *,
    now: datetime,
    scheme_id: int | None = None,
    group_id: int | None = None,
    days: int = CORRECTIONS_DAYS,
) -> list[CorrectionItem]:
    """Return reversals and claims withdrawn after an objection, of the last `days` days."""
    since = now - timedelta(days=days)
    entries = select(LedgerEntry).where(
        LedgerEntry.village_id == village_id,
        LedgerEntry.kind == EntryKind.REVERSAL,
        LedgerEntry.posted_at >= since,
    )
    # A claim withdrawn while on notice was stopped by an upheld objection.
    withdrawn = select(Claim).where(
        Claim.village_id == village_id,
        Claim.state == ClaimState.WITHDRAWN,
        Claim.reviewed_at.is_not(None),
        Claim.withdrawn_at >= since,
    )
    if scheme_id is not None:
        entries = entries.where(LedgerEntry.scheme_id == scheme_id)
        withdrawn = withdrawn.where(Claim.scheme_id == scheme_id)
    if group_id is not None:
        members = select(Household.id).where(
            Household.village_id == village_id, Household.group_id == group_id
        )
        entries = entries.where(LedgerEntry.household_id.in_(members))
        withdrawn = withdrawn.where(Claim.household_id.in_(members))
    items: list[CorrectionItem] = []
    for entry in session.scalars(
        entries.options(
            selectinload(LedgerEntry.household).selectinload(Household.group),
            selectinload(LedgerEntry.reverses),
        )
    ):
        household = entry.household
        items.append(
            CorrectionItem(
                kind="reversal",
                scheme_id=entry.scheme_id,
                household=mask_name(household.head_name),
                house_number=household.house_number,
                group_name=household.group.name if household.group else "",
                title=entry.title,
                points=entry.points,
                original_points=entry.reverses.points if entry.reverses else -entry.points,
                deed_date=entry.deed_date,
                at=entry.posted_at,
                reason=entry.reason,
            )
        )
    for claim in session.scalars(
        withdrawn.options(
            selectinload(Claim.household).selectinload(Household.group),
            selectinload(Claim.rule_version),
        )
    ):
        household = claim.household
        assert claim.withdrawn_at is not None
        items.append(
            CorrectionItem(
                kind="withdrawn",
                scheme_id=claim.scheme_id,
                household=mask_name(household.head_name),
                house_number=household.house_number,
                group_name=household.group.name if household.group else "",
                title=claim.rule_version.title,
                points=0,
                original_points=claim.points,
                deed_date=claim.deed_date,
                at=claim.withdrawn_at,
                reason=claim.withdraw_reason,
            )
        )
    items.sort(key=lambda c: c.at, reverse=True)
    return items


def public_notice(
    session: Session,
    village_id: int,
    scheme_id: int | None = None,
    group_id: int | None = None,
    *,
    now: datetime,
) -> NoticeBoard:
    """Return what the public notice page shows: masked claims on notice and corrections."""
    claims = claims_in_notice(session, village_id, now=now, scheme_id=scheme_id, group_id=group_id)
    return NoticeBoard(
        items=[_notice_item(c) for c in claims],
        corrections=recent_corrections(
            session, village_id, now=now, scheme_id=scheme_id, group_id=group_id
        ),
    )


def notice_on_access(
    session: Session,
    village_id: int,
    scheme_id: int | None = None,
    group_id: int | None = None,
    *,
    now: datetime,
) -> NoticeBoard:
    """Post the village's claims whose notice ended, then return the public board."""
    # Cheap when nothing is due: one indexed query on (village_id, state, notice_until).
    post_due(session, now=now, village_id=village_id)
    board = public_notice(session, village_id, scheme_id, group_id, now=now)
    board.ledger_code = head_code(session, village_id)
    session.commit()
    return board


@dataclass
class StaffNotice:
    """What staff see on the notice page: full names, objections to decide."""

    claims: list[Claim]
    open_objections: list[Objection]
    decided: list[Objection]
    staff: dict[int, str]  # display names of the staff named on the page


def staff_notice(
    session: Session,
    village_id: int,
    *,
    now: datetime,
    scheme_id: int | None = None,
    group_id: int | None = None,
) -> StaffNotice:
    """Post what is due, then return the claims on notice and the objections, for staff."""
    post_due(session, now=now, village_id=village_id)
    claims = claims_in_notice(session, village_id, now=now, scheme_id=scheme_id, group_id=group_id)
    pending = open_objections(session, village_id)
    decided = decided_objections(session, village_id, now=now)
    staff = staff_names(
        session,
        {o.received_by_id for o in pending + decided} | {o.resolved_by_id for o in decided},
    )
    session.commit()
    return StaffNotice(claims, pending, decided, staff)


def public_village(session: Session, code: str) -> Village | None:
    """Return the village of a public address, or None."""
    if not code or len(code) > 32:
        return None
    return session.scalar(select(Village).where(Village.code == code))


def item_to_object(
    session: Session, village_id: int, claim_id: int, *, now: datetime
) -> NoticeItem:
    """Return the masked notice item of a claim that may still be objected to."""
    claim = session.get(Claim, claim_id)
    if claim is None or claim.village_id != village_id:
        raise NotFound(N_("No such claim."))
    _check_on_notice(claim, now)
    return _notice_item(claim)


# ---- objections ---------------------------------------------------------------------


def _clean(name: str, contact: str, reason: str) -> tuple[str, str, str]:
    """Check and tidy what an objector wrote."""
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
    _check_on_notice(claim, now)
    return claim


def _check_on_notice(claim: Claim, now: datetime) -> None:
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


def _recent_duplicate(
    session: Session, claim: Claim, name: str, reason: str, now: datetime
) -> Objection | None:
    return session.scalar(
        select(Objection).where(
            Objection.village_id == claim.village_id,
            Objection.claim_id == claim.id,
            Objection.state == ObjectionState.OPEN,
            Objection.name == name,
            Objection.reason == reason,
            Objection.created_at >= now - DUPLICATE_WINDOW,
        )
    )


def _check_flood(session: Session, claim: Claim, ip: str, now: datetime) -> None:
    """Refuse a connection that sent too many objections in the last day."""
    sent = (
        select(func.count(AuditEvent.id))
        .where(
            AuditEvent.village_id == claim.village_id,
            AuditEvent.at >= now - timedelta(days=1),
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
            AuditEvent.at >= now - timedelta(days=1),
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
    claim = _claim_on_notice(session, claim_id, village_id, now)
    duplicate = _recent_duplicate(session, claim, name, reason, now)
    if duplicate is not None:
        session.rollback()
        return duplicate
    if ip:
        _check_flood(session, claim, ip, now)
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
    claim = session.get(Claim, claim_id)
    if claim is None:
        raise NotFound(N_("No such claim."))
    allowed = has_permission(actor, Permission.RECORD) or has_permission(actor, Permission.REVIEW)
    if not allowed or not can_see_village(session, actor, claim.village_id):
        raise PermissionDenied()
    name, contact, reason = _clean(name, contact, reason)
    claim = _claim_on_notice(session, claim_id, claim.village_id, now)
    duplicate = _recent_duplicate(session, claim, name, reason, now)
    if duplicate is not None:
        session.rollback()
        return duplicate
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
        # A villager's objection is signed with the name they gave.
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


def resolve_objection(
    session: Session,
    *,
    actor: User,
    objection_id: int,
    uphold: bool,
    reason: str,
    ip: str | None = None,
    now: datetime | None = None,
) -> Objection:
    """Uphold (the claim is withdrawn) or dismiss an objection, with a reason."""
    now = now or utcnow()
    objection = session.get(Objection, objection_id)
    if objection is None:
        raise NotFound(N_("No such objection."))
    claim = objection.claim
    require(session, actor, Permission.REVIEW, objection.village_id)
    check_recusal(actor.household_id, claim.household_id)
    if claim.recorded_by_id == actor.id:
        raise FourEyesError(
            N_(
                "The person who recorded a claim may not decide objections to it; "
                "another reviewer must."
            )
        )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(N_("A reason is required to decide an objection."))
    if len(reason) > MAX_REASON:
        raise ValidationError(N_("The reason may have at most %(n)s characters."), n=MAX_REASON)
    lock_row(session, "claim", "id", claim.id)
    session.refresh(claim)
    session.refresh(objection)
    if objection.state != ObjectionState.OPEN:
        raise InvalidState(N_("This objection has already been decided."))
    if claim.state != ClaimState.NOTICED:
        raise InvalidState()
    decided = [objection]
    if uphold:
        # An upheld objection stops the claim; every other open objection is then upheld too.
        decided += [
            o for o in claim.objections if o.id != objection.id and o.state == ObjectionState.OPEN
        ]
    for item in decided:
        item.state = ObjectionState.UPHELD if uphold else ObjectionState.DISMISSED
        item.resolved_by_id, item.resolved_at, item.resolution = actor.id, now, reason
        audit.log(
            session,
            "objection.uphold" if uphold else "objection.dismiss",
            actor=actor,
            village_id=item.village_id,
            obj=item,
            ip=ip,
            at=now,
            before={"state": ObjectionState.OPEN},
            after={"state": item.state, "claim_id": claim.id, "resolution": reason},
        )
    if uphold:
        claim.state, claim.withdrawn_at, claim.withdraw_reason = ClaimState.WITHDRAWN, now, reason
        audit.log(
            session,
            "claim.withdraw",
            actor=actor,
            village_id=claim.village_id,
            obj=claim,
            ip=ip,
            at=now,
            before={"state": ClaimState.NOTICED},
            after={"state": claim.state, "reason": reason, "objection_id": objection.id},
        )
    session.commit()
    notice_over = claim.notice_until is not None and claim.notice_until <= now
    if not uphold and notice_over and not has_open_objection(session, claim):
        # Nothing holds it any more and its notice is over: it posts now.
        post_due(session, now=now, village_id=claim.village_id)
    return objection


def open_objections(session: Session, village_id: int) -> list[Objection]:
    """Return a village's open objections, oldest first, with their claims."""
    return list(
        session.scalars(
            select(Objection)
            .where(Objection.village_id == village_id, Objection.state == ObjectionState.OPEN)
            .order_by(Objection.created_at, Objection.id)
            .options(
                selectinload(Objection.claim).selectinload(Claim.household),
                selectinload(Objection.claim).selectinload(Claim.rule_version),
                selectinload(Objection.claim).selectinload(Claim.recorded_by),
            )
        )
    )


def decided_objections(
    session: Session, village_id: int, *, now: datetime, days: int = CORRECTIONS_DAYS
) -> list[Objection]:
    """Return objections decided in the last `days` days, newest first."""
    return list(
        session.scalars(
            select(Objection)
            .where(
                Objection.village_id == village_id,
                Objection.state != ObjectionState.OPEN,
                Objection.resolved_at >= now - timedelta(days=days),
            )
            .order_by(Objection.resolved_at.desc(), Objection.id.desc())
            .options(
                selectinload(Objection.claim).selectinload(Claim.household),
                selectinload(Objection.claim).selectinload(Claim.rule_version),
            )
        )
    )


def staff_names(session: Session, ids: set[int | None]) -> dict[int, str]:
    """Return display names of staff users by id."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(select(User.id, User.display_name).where(User.id.in_(wanted)))
    return {row.id: row.display_name for row in rows}


# ---- a household's entries and corrections ----------------------------------------


@dataclass(frozen=True)
class EntryRow:
    """A ledger entry with what corrected it, or what it corrects."""

    entry: LedgerEntry
    reversed_by: LedgerEntry | None
    recorder: str
    approver: str

    @property
    def is_reversal(self) -> bool:
        return self.entry.kind == EntryKind.REVERSAL

    @property
    def can_reverse(self) -> bool:
        return not self.is_reversal and self.reversed_by is None


def household_entries(
    session: Session,
    village_id: int,
    household_id: int,
    *,
    scheme_id: int | None = None,
    page: int = 1,
    per_page: int = 30,
) -> Page[EntryRow]:
    """Return one page of a household's ledger entries, newest first, with reversal links."""
    query = (
        select(LedgerEntry)
        .where(LedgerEntry.village_id == village_id, LedgerEntry.household_id == household_id)
        .options(selectinload(LedgerEntry.reverses), selectinload(LedgerEntry.scheme))
        .order_by(LedgerEntry.seq.desc())
    )
    if scheme_id is not None:
        query = query.where(LedgerEntry.scheme_id == scheme_id)
    result = paginate(session, query, page, per_page)
    ids = [e.id for e in result.items]
    reversals: dict[int, LedgerEntry] = {}
    if ids:
        for rev in session.scalars(
            select(LedgerEntry).where(
                LedgerEntry.village_id == village_id, LedgerEntry.reverses_id.in_(ids)
            )
        ):
            assert rev.reverses_id is not None
            reversals[rev.reverses_id] = rev
    names = staff_names(
        session,
        {e.recorded_by_id for e in result.items} | {e.approved_by_id for e in result.items},
    )
    rows = [
        EntryRow(
            entry=e,
            reversed_by=reversals.get(e.id),
            recorder=names.get(e.recorded_by_id or 0, ""),
            approver=names.get(e.approved_by_id or 0, ""),
        )
        for e in result.items
    ]
    return Page(items=rows, page=result.page, per_page=per_page, total=result.total)


def find_group(session: Session, village_id: int, name: str) -> Group:
    """Return a village's group by its name."""
    group = session.scalar(
        select(Group).where(Group.village_id == village_id, Group.name == name.strip())
    )
    if group is None:
        raise NotFound(N_("This village has no group named %(name)s."), name=name)
    return group
