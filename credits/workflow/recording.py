"""Recording a claim: what a clerk submits, its checks (recusal, rule, caps, photos), storing it."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from credits import audit
from credits.access import Permission, check_recusal, require
from credits.boards.policies import check_exclusive
from credits.caps import cap_breach, cap_exceeded
from credits.db import lock_row, utcnow
from credits.errors import (
    DomainError,
    IdempotencyConflict,
    InvalidState,
    NotFound,
    ValidationError,
)
from credits.evidence import check_photo_count
from credits.i18n import N_, gettext
from credits.models import (
    Account,
    Claim,
    ClaimKind,
    ClaimState,
    Evidence,
    Household,
    LedgerEntry,
    Member,
    Rule,
    RuleVersion,
    User,
)
from credits.models.claim import LIVE_STATES

MAX_NOTE = 500
MAX_BACKDATE_DAYS = 366
MAX_BATCH = 300  # claims in one batch award or one bulk review
MAX_KEY = 64
MAX_BATCH_KEY = 40  # a batch's claims use "<key>.<n>" as their own keys
BATCH_KEY_PATTERN = re.compile(r"^[0-9A-Za-z-]{8,40}$")


class BatchRefused(DomainError):
    """One item of a batch was refused, so the whole batch changed nothing.

    `subject` names the household or claim; `cause` is the item's own refusal.
    """

    code = "batch_refused"
    message = N_("Nothing was recorded. %(subject)s: %(reason)s")

    def __init__(self, subject: str, cause: DomainError, message: str | None = None) -> None:
        super().__init__(message, subject=subject, reason=str(cause))
        self.subject = subject
        self.cause = cause
        self.status = cause.status

    def translated(self, locale: str = "zh_CN") -> str:
        return gettext(
            self.message, locale, subject=self.subject, reason=self.cause.translated(locale)
        )


@dataclass(frozen=True)
class ClaimInput:
    """What a clerk submits; the idempotency key travels with it."""

    household_id: int
    rule_id: int
    deed_date: date
    idempotency_key: str
    member_id: int | None = None
    note: str = ""
    evidence_ids: tuple[int, ...] = ()

    def fingerprint(self) -> str:
        """Hash the payload, so a reused key with other content can be told apart."""
        fields: list[object] = [
            self.household_id,
            self.rule_id,
            self.deed_date.isoformat(),
            self.member_id,
            self.note.strip(),
        ]
        if self.evidence_ids:  # claims without photos keep the hash they always had
            fields.append(sorted(set(self.evidence_ids)))
        body = json.dumps(fields, ensure_ascii=False)
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
    """Sum the absolute points of live claims of one rule for a household in a date range.

    A posted claim whose entry was reversed no longer counts: the correction gave its
    points back, and with them its share of the cap.
    """
    entry, reversal = aliased(LedgerEntry), aliased(LedgerEntry)
    reversed_claim = (
        select(entry.id)
        .join(reversal, reversal.reverses_id == entry.id)
        .where(entry.claim_id == Claim.id)
        .exists()
    )
    total = session.scalar(
        select(func.coalesce(func.sum(func.abs(Claim.points)), 0)).where(
            Claim.village_id == village_id,
            Claim.household_id == household_id,
            Claim.rule_id == rule_id,
            Claim.kind == ClaimKind.DEED,  # a correction gives points back, it uses no cap
            Claim.state.in_([s.value for s in LIVE_STATES]),
            Claim.deed_date >= first,
            Claim.deed_date <= last,
            ~reversed_claim,
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
        raise cap_exceeded(breach)


def _household_label(household: Household) -> str:
    if household.house_number:
        return f"{household.head_name}（{household.house_number}）"
    return household.head_name


def _load_evidence(
    session: Session, actor: User, village_id: int, evidence_ids: Iterable[int]
) -> list[Evidence]:
    """Return the unattached photos this actor uploaded in this village, or refuse."""
    ids = sorted(set(evidence_ids))
    check_photo_count(len(ids))
    if not ids:
        return []
    found = {
        ev.id: ev
        for ev in session.scalars(select(Evidence).where(Evidence.id.in_(ids)).with_for_update())
    }
    for evidence_id in ids:
        ev = found.get(evidence_id)
        if (
            ev is None
            or ev.village_id != village_id
            or ev.claim_id is not None
            or ev.uploaded_by_id != actor.id
        ):
            raise ValidationError(
                N_("A photo could not be found or already belongs to another claim.")
            )
    return [found[i] for i in ids]


def _new_claim(
    session: Session,
    actor: User,
    household: Household,
    data: ClaimInput,
    now: datetime,
    ip: str | None,
) -> Claim:
    """Check one claim and add it to the session (no commit): the heart of recording."""
    if not data.idempotency_key or len(data.idempotency_key) > MAX_KEY:
        raise ValidationError(N_("The form has no valid submission key. Reload the page."))
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
    if version.evidence_required and not data.evidence_ids:
        raise ValidationError(N_("This item needs a photo as evidence."))
    # Serialise claims of one household so two racing claims cannot both fit under a cap.
    lock_row(session, "household", "id", household.id)
    _check_caps(session, household, version, data.deed_date)
    check_exclusive(session, household.id, data.member_id, data.deed_date, rule)
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
    session.flush()
    return claim


def _log_record(
    session: Session,
    actor: User,
    claim: Claim,
    evidence_ids: list[int],
    now: datetime,
    ip: str | None,
) -> None:
    after = audit.snapshot(
        claim,
        "household_id",
        "rule_id",
        "rule_version_id",
        "points",
        "deed_date",
        "member_id",
        "note",
    )
    if evidence_ids:
        after["evidence_ids"] = evidence_ids
    audit.log(
        session,
        "claim.record",
        actor=actor,
        village_id=claim.village_id,
        obj=claim,
        ip=ip,
        at=now,
        after=after,
    )


def record_claim(
    session: Session,
    *,
    actor: User,
    data: ClaimInput,
    ip: str | None = None,
    now: datetime | None = None,
) -> Claim:
    """Record a proposed award or deduction; the same key and payload returns the first.

    Photos named in `data.evidence_ids` (uploaded by the same actor with `store_photo`)
    are attached in the same transaction; a rule that requires evidence refuses a claim
    without any.
    """
    now = now or utcnow()
    household = session.get(Household, data.household_id)
    if household is None:
        raise NotFound(N_("No such household."))
    require(session, actor, Permission.RECORD, household.village_id)
    # Take the household's lock first: a retry of this submission that committed while
    # we waited is then found here, not refused by the cap its own claim filled.
    lock_row(session, "household", "id", household.id)
    existing = _existing(session, household.village_id, data)
    if existing is not None:
        return existing
    evidence = _load_evidence(session, actor, household.village_id, data.evidence_ids)
    try:
        claim = _new_claim(session, actor, household, data, now, ip)
    except IntegrityError:
        # A retry of the same submission won the race: answer with its claim.
        session.rollback()
        first = _existing(session, household.village_id, data)
        if first is None:
            raise
        return first
    for ev in evidence:
        ev.claim_id = claim.id
    _log_record(session, actor, claim, [ev.id for ev in evidence], now, ip)
    session.commit()
    return claim
