"""Corrections (更正): a claim to reverse a posted entry, decided and noticed like a deed.

One member of staff (record or review permission) proposes it with a reason; a second
person with the review permission, never the proposer, approves or rejects it (recusal
applies to both); it then stands on the public notice, objections included, and
`post_claim` appends the reversal entry when the notice ends.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from credits import audit
from credits.access import Permission, can_see_village, check_recusal, has_permission
from credits.db import lock_row, utcnow
from credits.errors import (
    AlreadyReversed,
    FourEyesError,
    InvalidState,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from credits.i18n import N_
from credits.models import Account, Claim, ClaimKind, ClaimState, EntryKind, LedgerEntry, User
from credits.models.claim import LIVE_STATES
from credits.workflow.recording import MAX_NOTE

CORRECTABLE = (EntryKind.AWARD, EntryKind.DEDUCTION)


class CorrectionPending(AlreadyReversed):
    """A correction of the entry is already waiting for review or on notice."""

    code = "correction_pending"
    message = N_("A correction of this entry has already been proposed.")


class ProposerMayNotDecide(FourEyesError):
    """The proposer of a correction tried to approve it: four eyes needs another."""

    message = N_("The person who proposed a correction may not approve it; another reviewer must.")


def may_propose(user: User) -> bool:
    """Tell whether a user's role lets them propose corrections (record or review)."""
    return has_permission(user, Permission.RECORD) or has_permission(user, Permission.REVIEW)


def check_proposer(session: Session, actor: User, village_id: int) -> None:
    if not may_propose(actor) or not can_see_village(session, actor, village_id):
        raise PermissionDenied()


def clean_reason(reason: str | None) -> str:
    """Check the reason a correction gives: required, at most MAX_NOTE characters."""
    text = (reason or "").strip()
    if not text:
        raise ValidationError(N_("A reason is required to reverse an entry."))
    if len(text) > MAX_NOTE:
        raise ValidationError(N_("The reason may have at most %(n)s characters."), n=MAX_NOTE)
    if "\x00" in text:
        raise ValidationError(N_("The reason contains a character that cannot be stored."))
    return text


def live_correction(session: Session, village_id: int, entry_id: int) -> Claim | None:
    """Return the correction of an entry that is waiting, on notice or posted, if any."""
    return session.scalar(
        select(Claim).where(
            Claim.village_id == village_id,
            Claim.reverses_entry_id == entry_id,
            Claim.kind == ClaimKind.CORRECTION,
            Claim.state.in_([s.value for s in LIVE_STATES]),
        )
    )


def _check_correctable(session: Session, entry: LedgerEntry) -> None:
    """Refuse an entry that is no posted award or deduction, or that is already corrected."""
    if entry.kind == EntryKind.REVERSAL:
        raise InvalidState(N_("A reversal cannot itself be reversed; record a new claim."))
    if entry.kind not in CORRECTABLE or entry.claim_id is None or entry.rule_version_id is None:
        raise InvalidState(N_("Only a posted award or deduction can be corrected."))
    if session.scalar(select(LedgerEntry.id).where(LedgerEntry.reverses_id == entry.id)):
        raise AlreadyReversed()
    if live_correction(session, entry.village_id, entry.id) is not None:
        raise CorrectionPending()


def propose_correction(
    session: Session,
    *,
    actor: User,
    entry_id: int,
    reason: str,
    ip: str | None = None,
    now: datetime | None = None,
) -> Claim:
    """Propose reversing a posted entry: a correction claim that waits for a second person."""
    now = now or utcnow()
    entry = session.get(LedgerEntry, entry_id)
    if entry is None:
        raise NotFound()
    check_proposer(session, actor, entry.village_id)
    check_recusal(actor.household_id, entry.household_id)
    text = clean_reason(reason)
    # One live correction per entry: proposals for one household queue on its row, and
    # the check below then sees a proposal committed while we waited.
    lock_row(session, "household", "id", entry.household_id)
    session.refresh(entry)
    _check_correctable(session, entry)
    source = session.get(Claim, entry.claim_id)
    account = session.get(Account, entry.account_id)
    assert source is not None and account is not None
    claim = Claim(
        village_id=entry.village_id,
        scheme_id=entry.scheme_id,
        account_id=account.id,
        household_id=entry.household_id,
        member_id=entry.member_id,
        rule_id=source.rule_id,
        rule_version_id=entry.rule_version_id,
        points=-entry.points,
        deed_date=entry.deed_date,
        note=text,
        state=ClaimState.RECORDED,
        kind=ClaimKind.CORRECTION,
        reverses_entry_id=entry.id,
        idempotency_key=f"corr-{entry.id}-{uuid.uuid4().hex[:24]}",
        payload_hash=hashlib.sha256(
            json.dumps(["correction", entry.id, text], ensure_ascii=False).encode()
        ).hexdigest(),
        recorded_by_id=actor.id,
        recorded_at=now,
    )
    session.add(claim)
    session.flush()
    audit.log(
        session,
        "correction.propose",
        actor=actor,
        village_id=claim.village_id,
        obj=claim,
        ip=ip,
        at=now,
        after={"reverses": entry.id, "points": claim.points, "reason": text},
    )
    session.commit()
    return claim


@dataclass(frozen=True)
class CorrectionTarget:
    """An entry as the correction page shows it, with what already corrects it."""

    entry: LedgerEntry
    reversed_by: LedgerEntry | None
    pending: Claim | None

    @property
    def correctable(self) -> bool:
        return (
            self.entry.kind in CORRECTABLE
            and self.entry.claim_id is not None
            and self.reversed_by is None
            and self.pending is None
        )


def correction_target(session: Session, village_id: int, entry_id: int) -> CorrectionTarget:
    """Return an entry of the village and its correction state, for the correction page."""
    entry = session.get(LedgerEntry, entry_id)
    if entry is None or entry.village_id != village_id:
        raise NotFound()
    reversed_by = session.scalar(
        select(LedgerEntry).where(
            LedgerEntry.village_id == village_id, LedgerEntry.reverses_id == entry.id
        )
    )
    return CorrectionTarget(entry, reversed_by, live_correction(session, village_id, entry.id))


def pending_corrections(
    session: Session, village_id: int, entry_ids: Iterable[int]
) -> dict[int, Claim]:
    """Map entry id → its correction waiting for review or on notice (not yet posted)."""
    ids = list(entry_ids)
    if not ids:
        return {}
    claims = session.scalars(
        select(Claim)
        .where(
            Claim.village_id == village_id,
            Claim.kind == ClaimKind.CORRECTION,
            Claim.reverses_entry_id.in_(ids),
            Claim.state.in_([ClaimState.RECORDED, ClaimState.NOTICED]),
        )
        .options(selectinload(Claim.recorded_by))
    )
    return {c.reverses_entry_id: c for c in claims if c.reverses_entry_id is not None}
