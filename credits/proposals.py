"""Villagers' proposals (申报) from the passbook: a draft the clerk confirms or declines.

The card is the villager's key; a proposal is only a draft. The clerk confirms it into
a claim through `record_claim` (key "proposal-<id>", so confirming twice records once)
or declines it with a reason the passbook then shows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from credits import audit
from credits.access import Permission, require
from credits.clock import local_date
from credits.db import utcnow
from credits.errors import DomainError, NotFound, ValidationError
from credits.i18n import N_
from credits.models import Claim, Household, Proposal, ProposalState, Rule, Scheme, User
from credits.privacy import mask_name
from credits.workflow import ClaimInput, record_claim

MAX_NOTE = 200
MAX_NAME = 20
MAX_REASON = 200
MAX_DAYS_BACK = 60
PER_CARD_DAY = 5  # proposals one household may send in 24 hours
PER_ADDRESS_DAY = 20  # proposals one connection may send to a village in 24 hours
SHOWN_ON_PASSBOOK = 10
PHONE = re.compile(r"^[0-9+\- ]{5,20}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class TooManyProposals(DomainError):
    code = "rate_limited"
    status = 429
    message = N_("Too many proposals were sent today. Please try again tomorrow.")


class ProposalDecided(DomainError):
    code = "proposal_decided"
    status = 409
    message = N_("This proposal was already confirmed or declined.")


@dataclass(frozen=True)
class ProposalInput:
    rule_id: int
    deed_date: date
    note: str = ""
    name: str = ""
    phone: str = ""


@dataclass(frozen=True)
class ProposalLine:
    """A proposal as the passbook or the clerk's queue shows it."""

    id: int
    rule_title: str
    points: int
    deed_date: date
    sent_on: date
    state: str
    decline_reason: str
    note: str
    household: str  # masked on the passbook, in full for the clerk
    house_number: str
    name: str
    phone: str  # always masked


def mask_phone(phone: str) -> str:
    """138****5678: enough for the clerk to recognise, not to copy."""
    digits = phone.strip()
    if len(digits) <= 4:
        return "*" * len(digits)
    return digits[:3] + "*" * max(0, len(digits) - 7) + digits[-4:]


def _clean(text: str, limit: int) -> str:
    """Drop control characters (NUL …) and refuse text over its limit."""
    text = _CONTROL.sub("", text or "").strip()
    if len(text) > limit:
        raise ValidationError(N_("This text may have at most %(n)s characters."), n=limit)
    return text


def proposable_rules(session: Session, village_id: int) -> list[Rule]:
    """The active award rules of the village's active schemes, in catalogue order."""
    return list(
        session.scalars(
            select(Rule)
            .join(Scheme, Scheme.id == Rule.scheme_id)
            .where(
                Rule.village_id == village_id,
                Rule.active.is_(True),
                Rule.points > 0,
                Scheme.active.is_(True),
            )
            .order_by(Scheme.id, Rule.position, Rule.id)
        )
    )


def _check_flood(session: Session, household: Household, ip: str, now: datetime) -> None:
    since = now - timedelta(days=1)
    base = select(func.count(Proposal.id)).where(
        Proposal.village_id == household.village_id, Proposal.created_at >= since
    )
    by_card = session.scalar(base.where(Proposal.household_id == household.id)) or 0
    by_address = session.scalar(base.where(Proposal.ip == ip)) if ip else 0
    if by_card >= PER_CARD_DAY or (by_address or 0) >= PER_ADDRESS_DAY:
        raise TooManyProposals()


def propose(
    session: Session,
    household: Household,
    data: ProposalInput,
    *,
    ip: str = "",
    now: datetime | None = None,
) -> Proposal:
    """Store a villager's proposal as a draft for the clerks (no login: the card is the key)."""
    now = now or utcnow()
    rule = session.get(Rule, data.rule_id) if 0 < data.rule_id < 2**31 else None
    if rule is None or rule.village_id != household.village_id:
        raise NotFound(N_("No such item in this village's rules."))
    if not rule.active or rule.points <= 0 or rule.scheme is None or not rule.scheme.active:
        raise ValidationError(N_("Choose an active rule of this village."))
    day = local_date(now)
    if data.deed_date > day:
        raise ValidationError(N_("The date of the deed cannot be in the future."))
    if data.deed_date < day - timedelta(days=MAX_DAYS_BACK):
        raise ValidationError(
            N_("Only deeds of the last %(n)s days can be proposed."), n=MAX_DAYS_BACK
        )
    note = _clean(data.note, MAX_NOTE)
    name = _clean(data.name, MAX_NAME)
    phone = _clean(data.phone, 20)
    if phone and not PHONE.match(phone):
        raise ValidationError(N_("Write the phone number with digits only."))
    _check_flood(session, household, ip[:45], now)
    proposal = Proposal(
        village_id=household.village_id,
        household_id=household.id,
        rule_id=rule.id,
        deed_date=data.deed_date,
        note=note,
        name=name,
        phone=phone,
        ip=ip[:45],
        state=ProposalState.DRAFT,
        created_at=now,
    )
    session.add(proposal)
    session.flush()
    audit.log(
        session,
        "proposal.create",
        actor=None,
        actor_name=name or "villager",
        village_id=household.village_id,
        obj=proposal,
        ip=ip,
        at=now,
        after={"household_id": household.id, "rule_id": rule.id, "deed_date": data.deed_date},
    )
    session.commit()
    return proposal


def _lines(session: Session, query, *, masked: bool) -> list[ProposalLine]:  # type: ignore[no-untyped-def]
    rows = session.execute(query).all()
    return [
        ProposalLine(
            id=p.id,
            rule_title=title,
            points=points,
            deed_date=p.deed_date,
            sent_on=local_date(p.created_at),
            state=p.state,
            decline_reason=p.decline_reason,
            note=p.note,
            household=mask_name(head) if masked else head,
            house_number=house,
            name=mask_name(p.name) if masked else p.name,
            phone=mask_phone(p.phone),
        )
        for p, title, points, head, house in rows
    ]


def _query():  # type: ignore[no-untyped-def]
    return (
        select(Proposal, Rule.title, Rule.points, Household.head_name, Household.house_number)
        .join(Rule, Rule.id == Proposal.rule_id)
        .join(Household, Household.id == Proposal.household_id)
    )


def for_household(session: Session, household: Household) -> list[ProposalLine]:
    """The household's latest proposals with their state, for its passbook."""
    query = (
        _query()
        .where(Proposal.village_id == household.village_id, Proposal.household_id == household.id)
        .order_by(Proposal.created_at.desc(), Proposal.id.desc())
        .limit(SHOWN_ON_PASSBOOK)
    )
    return _lines(session, query, masked=True)


def queue(
    session: Session, actor: User, village_id: int, *, limit: int = 200
) -> list[ProposalLine]:
    """The village's drafts, oldest first, for a clerk."""
    require(session, actor, Permission.RECORD, village_id)
    query = (
        _query()
        .where(Proposal.village_id == village_id, Proposal.state == ProposalState.DRAFT)
        .order_by(Proposal.created_at, Proposal.id)
        .limit(limit)
    )
    return _lines(session, query, masked=False)


def _owned(session: Session, village_id: int, proposal_id: int) -> Proposal:
    proposal = session.get(Proposal, proposal_id) if 0 < proposal_id < 2**31 else None
    if proposal is None or proposal.village_id != village_id:
        raise NotFound(N_("No such proposal."))
    return proposal


def _decide(
    session: Session, proposal_id: int, actor: User, state: str, now: datetime, reason: str = ""
) -> None:
    """Compare-and-set: only a draft moves, and only once."""
    moved = session.execute(
        update(Proposal)
        .where(Proposal.id == proposal_id, Proposal.state == ProposalState.DRAFT)
        .values(state=state, decided_by_id=actor.id, decided_at=now, decline_reason=reason)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise ProposalDecided()


def confirm(
    session: Session,
    *,
    actor: User,
    village_id: int,
    proposal_id: int,
    ip: str | None = None,
    now: datetime | None = None,
) -> Claim:
    """Turn a draft into a claim recorded by the clerk; a second confirmation is refused."""
    now = now or utcnow()
    require(session, actor, Permission.RECORD, village_id)
    proposal = _owned(session, village_id, proposal_id)
    _decide(session, proposal.id, actor, ProposalState.CONFIRMED, now)
    audit.log(
        session,
        "proposal.confirm",
        actor=actor,
        village_id=village_id,
        obj=proposal,
        ip=ip,
        at=now,
        before={"state": ProposalState.DRAFT},
        after={"state": ProposalState.CONFIRMED},
    )
    data = ClaimInput(
        household_id=proposal.household_id,
        rule_id=proposal.rule_id,
        deed_date=proposal.deed_date,
        idempotency_key=f"proposal-{proposal.id}",
        note=proposal.note or "",
    )
    try:
        # record_claim commits the claim together with the proposal's state change.
        claim = record_claim(session, actor=actor, ip=ip, now=now, data=data)
    except DomainError:
        session.rollback()  # the proposal stays a draft
        raise
    # Link the claim (and confirm again: a lost race inside record_claim rolled back).
    session.execute(
        update(Proposal)
        .where(Proposal.id == proposal_id)
        .values(claim_id=claim.id, state=ProposalState.CONFIRMED)
    )
    session.commit()
    return claim


def decline(
    session: Session,
    *,
    actor: User,
    village_id: int,
    proposal_id: int,
    reason: str,
    ip: str | None = None,
    now: datetime | None = None,
) -> None:
    """Decline a draft with a reason the household will read on its passbook."""
    now = now or utcnow()
    require(session, actor, Permission.RECORD, village_id)
    proposal = _owned(session, village_id, proposal_id)
    reason = _clean(reason, MAX_REASON)
    if not reason:
        raise ValidationError(N_("Say why the proposal is declined."))
    _decide(session, proposal.id, actor, ProposalState.DECLINED, now, reason)
    audit.log(
        session,
        "proposal.decline",
        actor=actor,
        village_id=village_id,
        obj=proposal,
        ip=ip,
        at=now,
        before={"state": ProposalState.DRAFT},
        after={"state": ProposalState.DECLINED, "reason": reason},
    )
    session.commit()
