"""Deciding claims: approve or reject one or many (four eyes, recusal), and withdrawal.

Every decision is a guarded transition (`credits.transitions.move`): of two reviewers
deciding one claim at the same moment, one wins and the other is told it moved on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from credits.access import Permission, check_recusal, require
from credits.db import utcnow
from credits.errors import DomainError, FourEyesError, InvalidState, NotFound, ValidationError
from credits.i18n import N_
from credits.models import Claim, ClaimState, User
from credits.transitions import move
from credits.workflow.corrections import ProposerMayNotDecide, check_proposer
from credits.workflow.posting import post_claim
from credits.workflow.recording import MAX_BATCH, MAX_NOTE, BatchRefused, _household_label


def _claim_for_review(session: Session, actor: User, claim_id: int) -> Claim:
    claim = session.get(Claim, claim_id)
    if claim is None:
        raise NotFound(N_("No such claim."))
    require(session, actor, Permission.REVIEW, claim.village_id)
    check_recusal(actor.household_id, claim.household_id)
    return claim


def _approve(session: Session, actor: User, claim: Claim, now: datetime, ip: str | None) -> None:
    if claim.recorded_by_id == actor.id:
        if claim.is_correction:
            raise ProposerMayNotDecide()
        raise FourEyesError()
    notice_until = now + timedelta(days=claim.scheme.notice_days)
    move(
        session,
        claim,
        to=ClaimState.NOTICED,
        action="claim.approve",
        actor=actor,
        now=now,
        ip=ip,
        expect=ClaimState.RECORDED,
        values={"reviewed_by_id": actor.id, "reviewed_at": now, "notice_until": notice_until},
        audit_after={"notice_until": notice_until},
    )
    if notice_until <= now:
        post_claim(session, claim, now)


def _clean_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(N_("A reason is required to reject a claim."))
    if len(reason) > MAX_NOTE:
        raise ValidationError(N_("The reason may have at most %(n)s characters."), n=MAX_NOTE)
    if "\x00" in reason:
        raise ValidationError(N_("The reason contains a character that cannot be stored."))
    return reason


def _reject(
    session: Session, actor: User, claim: Claim, reason: str, now: datetime, ip: str | None
) -> None:
    move(
        session,
        claim,
        to=ClaimState.REJECTED,
        action="claim.reject",
        actor=actor,
        now=now,
        ip=ip,
        expect=ClaimState.RECORDED,
        values={"reviewed_by_id": actor.id, "reviewed_at": now, "reject_reason": reason},
        audit_after={"reason": reason},
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
    if claim.is_correction:
        check_proposer(session, actor, claim.village_id)
    else:
        require(session, actor, Permission.RECORD, claim.village_id)
    if claim.recorded_by_id != actor.id:
        raise InvalidState(N_("Only the person who recorded a claim may withdraw it."))
    text = (reason or "").strip()
    move(
        session,
        claim,
        to=ClaimState.WITHDRAWN,
        action="claim.withdraw",
        actor=actor,
        now=now,
        ip=ip,
        expect=ClaimState.RECORDED,
        values={"withdrawn_at": now, "withdraw_reason": text},
        audit_after={"reason": text},
    )
    session.commit()
    return claim
