"""Posting (入账): a noticed claim becomes a ledger entry; due claims post; over-cap refusal.

`post_claim` is the one function that turns a claim into a ledger entry: an award or
deduction for a deed, a reversal for a correction. It first moves the claim from
noticed to posted (a guarded transition, so two posters cannot both post it), then
appends the entry in the same transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from credits.db import lock_row, utcnow
from credits.errors import AlreadyReversed, CapExceeded, DomainError
from credits.ledger import append_entry
from credits.models import (
    Claim,
    ClaimState,
    EntryKind,
    LedgerEntry,
    Objection,
    ObjectionState,
)
from credits.transitions import ClaimMoved, move


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


def post_claim(session: Session, claim: Claim, now: datetime) -> LedgerEntry:
    """Turn a noticed claim into its ledger entry (inside the caller's transaction).

    Raises `ClaimMoved` when another request posted or stopped it first, `CapExceeded`
    when a deed no longer fits under its rule's cap, `AlreadyReversed` when the entry a
    correction names was reversed meanwhile. The caller rolls back on any of them.
    """
    move(
        session,
        claim,
        to=ClaimState.POSTED,
        action="claim.post",
        actor=None,
        actor_name="system",
        now=now,
        expect=ClaimState.NOTICED,
        values={"posted_at": now},
    )
    if claim.is_correction:
        return _post_correction(session, claim, now)
    version = claim.rule_version
    kind = EntryKind.DEDUCTION if claim.points < 0 else EntryKind.AWARD
    return append_entry(
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


def _post_correction(session: Session, claim: Claim, now: datetime) -> LedgerEntry:
    """Append the reversal of the entry a correction names: its amounts negated, no cap."""
    entry = session.get(LedgerEntry, claim.reverses_entry_id)
    if entry is None or entry.village_id != claim.village_id:
        raise AlreadyReversed()
    # Serialise with any other reversal of this village: the head is locked by append_entry
    # too, but the check must see reversals committed while we waited.
    lock_row(session, "chain_head", "village_id", claim.village_id)
    if session.scalar(select(LedgerEntry.id).where(LedgerEntry.reverses_id == entry.id)):
        raise AlreadyReversed()
    return append_entry(
        session,
        claim.account,
        kind=EntryKind.REVERSAL,
        points=-entry.points,
        score_delta=-entry.score_delta,
        balance_delta=-entry.balance_delta,
        deed_date=entry.deed_date,
        now=now,
        member_id=entry.member_id,
        category=entry.category,
        title=entry.title,
        reason=claim.note,
        reverses_id=entry.id,
        claim_id=claim.id,
        rule_version_id=entry.rule_version_id,
        recorded_by_id=claim.recorded_by_id,
        approved_by_id=claim.reviewed_by_id,
    )


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
            post_claim(session, claim, now)
        except ClaimMoved:
            session.rollback()  # another poster came first
            continue
        except (CapExceeded, AlreadyReversed) as exc:
            # The rule's cap was lowered while this claim waited, or the entry a correction
            # names was reversed meanwhile: it can no longer count.
            session.rollback()
            _refuse(session, claim_id, exc, now)
            continue
        session.commit()
        posted += 1
    session.commit()  # end the read of due claims too (on SQLite it holds the write lock)
    return posted


def _refuse(session: Session, claim_id: int, exc: DomainError, now: datetime) -> None:
    """Reject a noticed claim that can no longer post (by the system), with the reason."""
    claim = session.get(Claim, claim_id, populate_existing=True)
    if claim is None:
        session.rollback()
        return
    reason = exc.translated()
    try:
        move(
            session,
            claim,
            to=ClaimState.REJECTED,
            action="claim.reject",
            actor=None,
            actor_name="system",
            now=now,
            expect=ClaimState.NOTICED,
            values={"reject_reason": reason},
            audit_after={"reason": reason},
        )
    except ClaimMoved:
        session.rollback()
        return
    session.commit()
