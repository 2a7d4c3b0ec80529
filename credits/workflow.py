"""The life of a claim: record, approve or reject, notice, objection, posting, withdrawal."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from credits import audit
from credits.access import Permission, check_recusal, require
from credits.caps import cap_breach
from credits.db import lock_row, utcnow
from credits.errors import (
    CapExceeded,
    FourEyesError,
    IdempotencyConflict,
    InvalidState,
    NotFound,
    ValidationError,
)
from credits.i18n import N_
from credits.ledger import append_entry
from credits.models import (
    Account,
    Claim,
    ClaimState,
    EntryKind,
    Household,
    LedgerEntry,
    Member,
    Objection,
    ObjectionState,
    Rule,
    RuleVersion,
    User,
)
from credits.models.claim import LIVE_STATES

MAX_NOTE = 500
MAX_BACKDATE_DAYS = 366


@dataclass(frozen=True)
class ClaimInput:
    """What a clerk submits; the idempotency key travels with it."""

    household_id: int
    rule_id: int
    deed_date: date
    idempotency_key: str
    member_id: int | None = None
    note: str = ""

    def fingerprint(self) -> str:
        """Hash the payload, so a reused key with other content can be told apart."""
        body = json.dumps(
            [
                self.household_id,
                self.rule_id,
                self.deed_date.isoformat(),
                self.member_id,
                self.note.strip(),
            ],
            ensure_ascii=False,
        )
        return hashlib.sha256(body.encode()).hexdigest()


def ensure_account(session: Session, household: Household, scheme_id: int) -> Account:
    """Return the household's account in a scheme, opening it if needed."""
    account = session.scalar(
        select(Account).where(
            Account.village_id == household.village_id,
            Account.scheme_id == scheme_id,
            Account.household_id == household.id,
        )
    )
    if account is None:
        account = Account(
            village_id=household.village_id, scheme_id=scheme_id, household_id=household.id
        )
        session.add(account)
        session.flush()
    return account


def _existing(session: Session, village_id: int, data: ClaimInput) -> Claim | None:
    claim = session.scalar(
        select(Claim).where(
            Claim.village_id == village_id, Claim.idempotency_key == data.idempotency_key
        )
    )
    if claim is not None and claim.payload_hash != data.fingerprint():
        raise IdempotencyConflict()
    return claim


def used_points(
    session: Session, household_id: int, rule_id: int, first: date, last: date, village_id: int
) -> int:
    """Sum the absolute points of live claims of one rule for a household in a date range."""
    total = session.scalar(
        select(func.coalesce(func.sum(func.abs(Claim.points)), 0)).where(
            Claim.village_id == village_id,
            Claim.household_id == household_id,
            Claim.rule_id == rule_id,
            Claim.state.in_([s.value for s in LIVE_STATES]),
            Claim.deed_date >= first,
            Claim.deed_date <= last,
        )
    )
    return int(total or 0)


def _check_caps(session: Session, household: Household, version: RuleVersion, deed: date) -> None:
    if version.cap_month is None and version.cap_year is None:
        return
    month_first = deed.replace(day=1)
    month_last = (month_first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    used_m = used_points(
        session, household.id, version.rule_id, month_first, month_last, household.village_id
    )
    used_y = used_points(
        session,
        household.id,
        version.rule_id,
        date(deed.year, 1, 1),
        date(deed.year, 12, 31),
        household.village_id,
    )
    breach = cap_breach(version.points, version.cap_month, version.cap_year, used_m, used_y)
    if breach:
        raise CapExceeded(cap=breach.cap, used=breach.used, period=breach.period)


def record_claim(
    session: Session,
    *,
    actor: User,
    data: ClaimInput,
    ip: str | None = None,
    now: datetime | None = None,
) -> Claim:
    """Record a proposed award or deduction; the same key and payload returns the first."""
    now = now or utcnow()
    household = session.get(Household, data.household_id)
    if household is None:
        raise NotFound(N_("No such household."))
    require(session, actor, Permission.RECORD, household.village_id)
    existing = _existing(session, household.village_id, data)
    if existing is not None:
        return existing
    check_recusal(actor.household_id, household.id)
    if not household.active:
        raise ValidationError(N_("This household is deactivated."))
    rule = session.get(Rule, data.rule_id)
    if rule is None or rule.village_id != household.village_id or not rule.active:
        raise ValidationError(N_("Choose an active rule of this village."))
    note = data.note.strip()
    if len(note) > MAX_NOTE:
        raise ValidationError(N_("The note may have at most %(n)s characters."), n=MAX_NOTE)
    if rule.points < 0 and not note:
        raise ValidationError(N_("A deduction needs a note saying what happened."))
    if data.deed_date > now.date() + timedelta(days=1):
        raise ValidationError(N_("The date of the deed cannot be in the future."))
    if data.deed_date < now.date() - timedelta(days=MAX_BACKDATE_DAYS):
        raise ValidationError(N_("The date of the deed is more than a year ago."))
    if data.member_id is not None:
        member = session.get(Member, data.member_id)
        if member is None or member.household_id != household.id:
            raise ValidationError(N_("The member does not belong to this household."))
    version = session.scalar(
        select(RuleVersion).where(
            RuleVersion.rule_id == rule.id, RuleVersion.version == rule.version
        )
    )
    if version is None:
        raise InvalidState(N_("The rule has no published version."))
    # Serialise claims of one household so two racing claims cannot both fit under a cap.
    lock_row(session, "household", "id", household.id)
    _check_caps(session, household, version, data.deed_date)
    account = ensure_account(session, household, rule.scheme_id)
    claim = Claim(
        village_id=household.village_id,
        scheme_id=rule.scheme_id,
        account_id=account.id,
        household_id=household.id,
        member_id=data.member_id,
        rule_id=rule.id,
        rule_version_id=version.id,
        points=version.points,
        deed_date=data.deed_date,
        note=note,
        state=ClaimState.RECORDED,
        idempotency_key=data.idempotency_key,
        payload_hash=data.fingerprint(),
        recorded_by_id=actor.id,
        recorded_at=now,
    )
    session.add(claim)
    try:
        session.flush()
    except IntegrityError:
        # A retry of the same submission won the race: answer with its claim.
        session.rollback()
        first = _existing(session, household.village_id, data)
        if first is None:
            raise
        return first
    audit.log(
        session,
        "claim.record",
        actor=actor,
        village_id=claim.village_id,
        obj=claim,
        ip=ip,
        at=now,
        after=audit.snapshot(
            claim,
            "household_id",
            "rule_id",
            "rule_version_id",
            "points",
            "deed_date",
            "member_id",
            "note",
        ),
    )
    session.commit()
    return claim


def _claim_for_review(session: Session, actor: User, claim_id: int) -> Claim:
    claim = session.get(Claim, claim_id)
    if claim is None:
        raise NotFound(N_("No such claim."))
    require(session, actor, Permission.REVIEW, claim.village_id)
    check_recusal(actor.household_id, claim.household_id)
    return claim


def approve_claim(
    session: Session,
    *,
    actor: User,
    claim_id: int,
    ip: str | None = None,
    now: datetime | None = None,
) -> Claim:
    """Approve a recorded claim: its public notice starts (and it posts at once if none)."""
    now = now or utcnow()
    claim = _claim_for_review(session, actor, claim_id)
    if claim.recorded_by_id == actor.id:
        raise FourEyesError()
    if claim.state != ClaimState.RECORDED:
        raise InvalidState()
    claim.state = ClaimState.NOTICED
    claim.reviewed_by_id, claim.reviewed_at = actor.id, now
    claim.notice_until = now + timedelta(days=claim.scheme.notice_days)
    audit.log(
        session,
        "claim.approve",
        actor=actor,
        village_id=claim.village_id,
        obj=claim,
        ip=ip,
        at=now,
        before={"state": ClaimState.RECORDED},
        after={"state": claim.state, "notice_until": claim.notice_until},
    )
    if claim.notice_until <= now:
        _post(session, claim, now)
    session.commit()
    return claim


def reject_claim(
    session: Session,
    *,
    actor: User,
    claim_id: int,
    reason: str,
    ip: str | None = None,
    now: datetime | None = None,
) -> Claim:
    """Reject a recorded claim with a reason."""
    now = now or utcnow()
    claim = _claim_for_review(session, actor, claim_id)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(N_("A reason is required to reject a claim."))
    if claim.state != ClaimState.RECORDED:
        raise InvalidState()
    claim.state = ClaimState.REJECTED
    claim.reviewed_by_id, claim.reviewed_at, claim.reject_reason = actor.id, now, reason
    audit.log(
        session,
        "claim.reject",
        actor=actor,
        village_id=claim.village_id,
        obj=claim,
        ip=ip,
        at=now,
        before={"state": ClaimState.RECORDED},
        after={"state": claim.state, "reason": reason},
    )
    session.commit()
    return claim


def withdraw_claim(
    session: Session,
    *,
    actor: User,
    claim_id: int,
    reason: str = "",
    ip: str | None = None,
    now: datetime | None = None,
) -> Claim:
    """Let the recorder withdraw their own claim while it still waits for review."""
    now = now or utcnow()
    claim = session.get(Claim, claim_id)
    if claim is None:
        raise NotFound(N_("No such claim."))
    require(session, actor, Permission.RECORD, claim.village_id)
    if claim.recorded_by_id != actor.id:
        raise InvalidState(N_("Only the person who recorded a claim may withdraw it."))
    if claim.state != ClaimState.RECORDED:
        raise InvalidState(N_("Only a claim waiting for review can be withdrawn."))
    claim.state, claim.withdrawn_at = ClaimState.WITHDRAWN, now
    claim.withdraw_reason = (reason or "").strip()
    audit.log(
        session,
        "claim.withdraw",
        actor=actor,
        village_id=claim.village_id,
        obj=claim,
        ip=ip,
        at=now,
        before={"state": ClaimState.RECORDED},
        after={"state": claim.state, "reason": claim.withdraw_reason},
    )
    session.commit()
    return claim


def has_open_objection(session: Session, claim: Claim) -> bool:
    """Tell whether an open objection holds the claim."""
    count = session.scalar(
        select(func.count(Objection.id)).where(
            Objection.village_id == claim.village_id,
            Objection.claim_id == claim.id,
            Objection.state == ObjectionState.OPEN,
        )
    )
    return bool(count)


def _post(session: Session, claim: Claim, now: datetime) -> LedgerEntry:
    """Turn a noticed claim into a ledger entry (inside the caller's transaction)."""
    version = claim.rule_version
    kind = EntryKind.DEDUCTION if claim.points < 0 else EntryKind.AWARD
    entry = append_entry(
        session,
        claim.account,
        kind=kind,
        points=claim.points,
        score_delta=claim.points,
        balance_delta=claim.points,
        deed_date=claim.deed_date,
        now=now,
        member_id=claim.member_id,
        category=version.category,
        title=version.title,
        note=claim.note,
        claim_id=claim.id,
        rule_version_id=version.id,
        recorded_by_id=claim.recorded_by_id,
        approved_by_id=claim.reviewed_by_id,
    )
    claim.state, claim.posted_at = ClaimState.POSTED, now
    audit.log(
        session,
        "claim.post",
        actor=None,
        village_id=claim.village_id,
        obj=claim,
        at=now,
        actor_name="system",
        before={"state": ClaimState.NOTICED},
        after={"state": claim.state, "entry_seq": entry.seq},
    )
    return entry


def due_claims(session: Session, now: datetime, village_id: int | None = None) -> list[int]:
    """Return ids of claims whose notice has ended and that no open objection holds."""
    open_objection = (
        select(Objection.id)
        .where(Objection.claim_id == Claim.id, Objection.state == ObjectionState.OPEN)
        .exists()
    )
    query = select(Claim.id).where(
        Claim.state == ClaimState.NOTICED, Claim.notice_until <= now, ~open_objection
    )
    if village_id is not None:
        query = query.where(Claim.village_id == village_id)
    return list(session.scalars(query.order_by(Claim.village_id, Claim.notice_until, Claim.id)))


def post_due(
    session: Session, *, now: datetime | None = None, village_id: int | None = None
) -> int:
    """Post every claim whose notice ended; safe to run again (each claim posts once)."""
    now = now or utcnow()
    posted = 0
    for claim_id in due_claims(session, now, village_id):
        # Re-read under a row lock: an objection or another poster may have come first.
        lock_row(session, "claim", "id", claim_id)
        claim = session.get(Claim, claim_id, populate_existing=True)
        if claim is None or claim.state != ClaimState.NOTICED or has_open_objection(session, claim):
            session.rollback()
            continue
        _post(session, claim, now)
        session.commit()
        posted += 1
    return posted
