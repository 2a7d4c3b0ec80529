"""Batch award: one rule and date for many households or members, all of them or none."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from credits import audit
from credits.access import Permission, require
from credits.db import lock_row, utcnow
from credits.errors import DomainError, IdempotencyConflict, NotFound, ValidationError
from credits.i18n import N_
from credits.models import Claim, Evidence, Household, Rule, User
from credits.workflow.recording import (
    BATCH_KEY_PATTERN,
    MAX_BATCH,
    BatchRefused,
    ClaimInput,
    _household_label,
    _load_evidence,
    _log_record,
    _new_claim,
)


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
