"""Reversing a posted entry directly (a new entry naming the old one; the old one stays)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from credits import audit
from credits.access import Permission, check_recusal, require
from credits.db import lock_row, utcnow
from credits.errors import AlreadyReversed, InvalidState, NotFound, ValidationError
from credits.i18n import N_
from credits.ledger.chain import append_entry
from credits.models import Account, EntryKind, LedgerEntry, User


def reverse_entry(
    session: Session,
    *,
    actor: User,
    entry_id: int,
    reason: str,
    ip: str | None = None,
    now: datetime | None = None,
) -> LedgerEntry:
    """Reverse a posted entry with a reason: a new entry naming it; the old one stays."""
    now = now or utcnow()
    entry = session.get(LedgerEntry, entry_id)
    if entry is None:
        raise NotFound()
    require(session, actor, Permission.REVIEW, entry.village_id)
    check_recusal(actor.household_id, entry.household_id)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(N_("A reason is required to reverse an entry."))
    if entry.kind == EntryKind.REVERSAL:
        raise InvalidState(N_("A reversal cannot itself be reversed; record a new claim."))
    lock_row(session, "chain_head", "village_id", entry.village_id)
    if session.scalar(select(LedgerEntry.id).where(LedgerEntry.reverses_id == entry.id)):
        raise AlreadyReversed()
    account = session.get(Account, entry.account_id)
    assert account is not None
    reversal = append_entry(
        session,
        account,
        kind=EntryKind.REVERSAL,
        points=-entry.points,
        score_delta=-entry.score_delta,
        balance_delta=-entry.balance_delta,
        deed_date=entry.deed_date,
        now=now,
        member_id=entry.member_id,
        category=entry.category,
        title=entry.title,
        reason=reason,
        reverses_id=entry.id,
        rule_version_id=entry.rule_version_id,
        recorded_by_id=actor.id,
        approved_by_id=actor.id,
    )
    audit.log(
        session,
        "entry.reverse",
        actor=actor,
        village_id=entry.village_id,
        obj=reversal,
        ip=ip,
        at=now,
        after={"reverses": entry.id, "points": reversal.points, "reason": reason},
    )
    session.commit()
    return reversal
