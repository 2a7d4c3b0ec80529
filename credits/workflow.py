"""The life of a claim: record, approve or reject, notice, objection, posting, withdrawal."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Sequence
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
    CapExceeded,
    DomainError,
    FourEyesError,
    IdempotencyConflict,
    InvalidState,
    NotFound,
    ValidationError,
)
from credits.evidence import check_photo_count
from credits.i18n import N_, gettext
from credits.ledger import append_entry
from credits.models import (
    Account,
    Claim,
    ClaimState,
    EntryKind,
    Evidence,
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


def _batch_targets(
    targets: Iterable[tuple[int, int | None]],
) -> list[tuple[int, int | None]]:
    """Drop repeats and sort, so the same ticks always give the same claim keys."""
    unique = {(int(h), int(m) if m is not None else None) for h, m in targets}
    return sorted(unique, key=lambda t: (t[0], t[1] or 0))


def _existing_batch(
    session: Session, village_id: int, batch_key: str, inputs: list[ClaimInput]
) -> list[Claim] | None:
    """Return the claims of an already recorded batch, or refuse a key reused otherwise."""
    found = {
        c.idempotency_key: c
        for c in session.scalars(
            select(Claim).where(
                Claim.village_id == village_id,
                Claim.idempotency_key.like(f"{batch_key}.%"),
            )
        )
    }
    if not found:
        return None
    if set(found) != {d.idempotency_key for d in inputs}:
        raise IdempotencyConflict()
    claims = []
    for data in inputs:
        claim = found[data.idempotency_key]
        if claim.payload_hash != data.fingerprint():
            raise IdempotencyConflict()
        claims.append(claim)
    return claims


def record_batch(
    session: Session,
    *,
    actor: User,
    rule_id: int,
    deed_date: date,
    targets: Sequence[tuple[int, int | None]],
    note: str = "",
    idempotency_key: str,
    evidence_ids: Iterable[int] = (),
    ip: str | None = None,
    now: datetime | None = None,
) -> list[Claim]:
    """Record one rule for many households (or members) at once: all of them or none.

    `targets` are (household id, member id or None). Each claim's own key is derived
    from the batch key, so sending the same batch again returns the same claims. The
    batch's photos are attached to every claim of the batch.
    """
    now = now or utcnow()
    if not BATCH_KEY_PATTERN.match(idempotency_key or ""):
        raise ValidationError(N_("The form has no valid submission key. Reload the page."))
    chosen = _batch_targets(targets)
    if not chosen:
        raise ValidationError(N_("Tick at least one household."))
    if len(chosen) > MAX_BATCH:
        raise ValidationError(N_("At most %(n)s claims can be sent at once."), n=MAX_BATCH)
    rule = session.get(Rule, rule_id)
    if rule is None:
        raise ValidationError(N_("Choose an active rule of this village."))
    village_id = rule.village_id
    require(session, actor, Permission.RECORD, village_id)
    if not rule.active:
        raise ValidationError(N_("Choose an active rule of this village."))
    photo_ids = tuple(sorted(set(evidence_ids)))
    inputs = [
        ClaimInput(
            household_id=household_id,
            rule_id=rule_id,
            deed_date=deed_date,
            idempotency_key=f"{idempotency_key}.{n}",
            member_id=member_id,
            note=note,
            evidence_ids=photo_ids,
        )
        for n, (household_id, member_id) in enumerate(chosen, start=1)
    ]
    # Lock the households first (in id order, so two batches cannot deadlock): a retry
    # that committed while we waited is then found, not refused by caps it filled.
    for household_id in sorted({household_id for household_id, _ in chosen}):
        lock_row(session, "household", "id", household_id)
    existing = _existing_batch(session, village_id, idempotency_key, inputs)
    if existing is not None:
        return existing
    evidence = _load_evidence(session, actor, village_id, photo_ids)
    claims: list[Claim] = []
    try:
        for data in inputs:
            household = session.get(Household, data.household_id)
            if household is None or household.village_id != village_id:
                session.rollback()
                raise BatchRefused(f"#{data.household_id}", NotFound(N_("No such household.")))
            try:
                claims.append(_new_claim(session, actor, household, data, now, ip))
            except DomainError as exc:
                session.rollback()
                raise BatchRefused(_household_label(household), exc) from exc
        for index, claim in enumerate(claims):
            ids = _attach_copies(session, evidence, claim, first=index == 0)
            _log_record(session, actor, claim, ids, now, ip)
        audit.log(
            session,
            "claim.batch",
            actor=actor,
            village_id=village_id,
            obj=rule,
            ip=ip,
            at=now,
            after={
                "rule_id": rule.id,
                "deed_date": deed_date,
                "claims": [c.id for c in claims],
                "evidence_ids": list(photo_ids),
            },
        )
        session.commit()
    except IntegrityError:
        # The same batch raced in twice: answer with the one that was stored.
        session.rollback()
        stored = _existing_batch(session, village_id, idempotency_key, inputs)
        if stored is None:
            raise
        return stored
    return claims


def _attach_copies(
    session: Session, evidence: list[Evidence], claim: Claim, *, first: bool
) -> list[int]:
    """Attach the batch's photos to a claim: the rows themselves first, copies after."""
    if first:
        for ev in evidence:
            ev.claim_id = claim.id
        return [ev.id for ev in evidence]
    copies = [
        Evidence(
            village_id=ev.village_id,
            claim_id=claim.id,
            path=ev.path,
            thumb_path=ev.thumb_path,
            content_type=ev.content_type,
            bytes=ev.bytes,
            width=ev.width,
            height=ev.height,
            thumb_width=ev.thumb_width,
            thumb_height=ev.thumb_height,
            sha256=ev.sha256,
            submission_key=None,
            uploaded_by_id=ev.uploaded_by_id,
            created_at=ev.created_at,
        )
        for ev in evidence
    ]
    session.add_all(copies)
    session.flush()
    return [c.id for c in copies]


def _claim_for_review(session: Session, actor: User, claim_id: int) -> Claim:
    claim = session.get(Claim, claim_id)
    if claim is None:
        raise NotFound(N_("No such claim."))
    require(session, actor, Permission.REVIEW, claim.village_id)
    check_recusal(actor.household_id, claim.household_id)
    return claim


def _approve(session: Session, actor: User, claim: Claim, now: datetime, ip: str | None) -> None:
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


def _clean_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(N_("A reason is required to reject a claim."))
    if len(reason) > MAX_NOTE:
        raise ValidationError(N_("The reason may have at most %(n)s characters."), n=MAX_NOTE)
    return reason


def _reject(
    session: Session, actor: User, claim: Claim, reason: str, now: datetime, ip: str | None
) -> None:
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
    _approve(session, actor, claim, now, ip)
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
    _reject(session, actor, claim, _clean_reason(reason), now, ip)
    session.commit()
    return claim


def _claim_label(claim: Claim) -> str:
    return f"{_household_label(claim.household)} · {claim.rule_version.title}"


def _review_ids(claim_ids: Iterable[int]) -> list[int]:
    ids = list(dict.fromkeys(int(i) for i in claim_ids))
    if not ids:
        raise ValidationError(N_("Tick at least one claim."))
    if len(ids) > MAX_BATCH:
        raise ValidationError(N_("At most %(n)s claims can be sent at once."), n=MAX_BATCH)
    return ids


def _review_many(
    session: Session, actor: User, claim_ids: Iterable[int], decide: Callable[[Claim], None]
) -> list[Claim]:
    """Decide every claim or none: the first refusal rolls all back and names its claim."""
    claims: list[Claim] = []
    for claim_id in _review_ids(claim_ids):
        subject = f"#{claim_id}"
        try:
            claim = session.get(Claim, claim_id)
            if claim is None:
                raise NotFound(N_("No such claim."))
            require(session, actor, Permission.REVIEW, claim.village_id)
            subject = _claim_label(claim)  # named only to staff who may see it
            check_recusal(actor.household_id, claim.household_id)
            decide(claim)
        except DomainError as exc:
            session.rollback()
            raise BatchRefused(
                subject, exc, N_("Nothing was changed. %(subject)s: %(reason)s")
            ) from exc
        claims.append(claim)
    session.commit()
    return claims


def approve_many(
    session: Session,
    *,
    actor: User,
    claim_ids: Iterable[int],
    ip: str | None = None,
    now: datetime | None = None,
) -> list[Claim]:
    """Approve ticked claims together: all of them or, on any refusal, none."""
    moment = now or utcnow()
    return _review_many(
        session, actor, claim_ids, lambda claim: _approve(session, actor, claim, moment, ip)
    )


def reject_many(
    session: Session,
    *,
    actor: User,
    claim_ids: Iterable[int],
    reason: str,
    ip: str | None = None,
    now: datetime | None = None,
) -> list[Claim]:
    """Reject ticked claims with one reason: all of them or, on any refusal, none."""
    moment = now or utcnow()
    text = _clean_reason(reason)
    return _review_many(
        session,
        actor,
        claim_ids,
        lambda claim: _reject(session, actor, claim, text, moment, ip),
    )


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
        try:
            _post(session, claim, now)
        except CapExceeded as exc:
            # The rule's cap was lowered while this claim waited: it can no longer count.
            session.rollback()
            _refuse_over_cap(session, claim_id, exc, now)
            continue
        session.commit()
        posted += 1
    return posted


def _refuse_over_cap(session: Session, claim_id: int, exc: CapExceeded, now: datetime) -> None:
    """Reject a noticed claim that no longer fits under its rule's cap (by the system)."""
    lock_row(session, "claim", "id", claim_id)
    claim = session.get(Claim, claim_id, populate_existing=True)
    if claim is None or claim.state != ClaimState.NOTICED:
        session.rollback()
        return
    claim.state = ClaimState.REJECTED
    claim.reject_reason = exc.translated()
    audit.log(
        session,
        "claim.reject",
        actor=None,
        village_id=claim.village_id,
        obj=claim,
        at=now,
        actor_name="system",
        before={"state": ClaimState.NOTICED},
        after={"state": claim.state, "reason": claim.reject_reason},
    )
    session.commit()
