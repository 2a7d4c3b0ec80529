"""Deciding an objection: uphold, dismiss, reopen, each a compare-and-set that tells the loser."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from credits import audit
from credits.db import lock_row, utcnow
from credits.errors import DomainError, InvalidState, NotFound
from credits.i18n import N_, gettext
from credits.models import Claim, ClaimState, Objection, ObjectionState, User
from credits.objections.raising import check_decider, decision_reason
from credits.transitions import ClaimMoved, move, state_name
from credits.workflow import post_due

OBJECTION_STATE_NAMES: dict[str, str] = {
    ObjectionState.OPEN: N_("waiting for the committee"),
    ObjectionState.UPHELD: N_("upheld"),
    ObjectionState.DISMISSED: N_("dismissed"),
}


class ObjectionMoved(InvalidState):
    """Another reviewer decided (or reopened) the objection first."""

    code = "objection_moved"
    status = 409
    message = N_(
        "This objection was changed in the meantime and is now %(state)s. "
        "Reload the page to see it as it is."
    )

    def translated(self, locale: str = "zh_CN") -> str:
        state = gettext(str(self.params.get("state", "")), locale)
        return gettext(self.message, locale, state=state)


# ---- deciding -----------------------------------------------------------------------


def _set_objection(
    session: Session,
    objection: Objection,
    *,
    expect: str,
    values: Mapping[str, Any],
) -> None:
    """Compare-and-set one objection's state; `ObjectionMoved` when someone came first."""
    result = session.execute(
        update(Objection)
        .where(
            Objection.id == objection.id,
            Objection.village_id == objection.village_id,
            Objection.state == expect,
        )
        .values(**values)
        .returning(Objection.id)
        .execution_options(synchronize_session=False)
    )
    if result.first() is None:
        session.expire(objection)
        raise ObjectionMoved(state=OBJECTION_STATE_NAMES.get(objection.state, N_("changed")))
    # Keep the loaded object in step with the row, without marking it dirty.
    for key, value in values.items():
        set_committed_value(objection, key, value)


def _check_still(session: Session, objection: Objection, claim: Claim, state: str) -> None:
    """Re-read both under the claim's lock; refuse when someone changed them first."""
    session.refresh(claim)
    session.refresh(objection)
    if objection.state != state:
        raise ObjectionMoved(state=OBJECTION_STATE_NAMES.get(objection.state, N_("changed")))
    if claim.state != ClaimState.NOTICED:
        raise ClaimMoved(state=state_name(claim.state))


def _locked_claim(session: Session, objection_id: int) -> tuple[Objection, Claim]:
    objection = session.get(Objection, objection_id)
    if objection is None:
        raise NotFound(N_("No such objection."))
    return objection, objection.claim


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
    """Uphold (the claim is withdrawn) or dismiss an objection, with a reason.

    Raises `ObjectionMoved` when another reviewer decided it first and `ClaimMoved` when
    the claim left its notice in the meantime; nothing is changed then.
    """
    now = now or utcnow()
    try:
        objection, claim = _locked_claim(session, objection_id)
        check_decider(session, actor, claim)
        reason = decision_reason(reason)
        # The claim row first, always: posters, objectors and deciders queue on it.
        lock_row(session, "claim", "id", claim.id)
        _check_still(session, objection, claim, ObjectionState.OPEN)
        to = ObjectionState.UPHELD if uphold else ObjectionState.DISMISSED
        decision: dict[str, Any] = {"state": to, "resolution": reason}
        decision.update(resolved_by_id=actor.id, resolved_at=now)
        _set_objection(session, objection, expect=ObjectionState.OPEN, values=decision)
        decided = [objection.id]
        if uphold:
            move(
                session,
                claim,
                to=ClaimState.WITHDRAWN,
                expect=ClaimState.NOTICED,
                action="claim.withdraw",
                actor=actor,
                now=now,
                ip=ip,
                values={"withdrawn_at": now, "withdraw_reason": reason},
                audit_after={"reason": reason, "objection_id": objection.id},
            )
            # An upheld objection stops the claim; every other open objection is upheld too.
            others = session.execute(
                update(Objection)
                .where(
                    Objection.village_id == claim.village_id,
                    Objection.claim_id == claim.id,
                    Objection.state == ObjectionState.OPEN,
                )
                .values(**decision)
                .returning(Objection.id)
                .execution_options(synchronize_session=False)
            )
            decided += sorted(row.id for row in others)
    except DomainError:
        session.rollback()
        raise
    for decided_id in decided:
        item = session.get(Objection, decided_id)
        for key, value in decision.items():
            set_committed_value(item, key, value)
        audit.log(
            session,
            "objection.uphold" if uphold else "objection.dismiss",
            actor=actor,
            village_id=claim.village_id,
            obj=item,
            ip=ip,
            at=now,
            before={"state": ObjectionState.OPEN},
            after={"state": to, "claim_id": claim.id, "resolution": reason},
        )
    session.commit()
    if not uphold and claim.notice_until is not None and claim.notice_until <= now:
        # If nothing holds it any more, its notice being over, it posts now.
        post_due(session, now=now, village_id=claim.village_id)
        session.commit()  # end post_due's last read, so no lock outlives the request
    return objection


def reopen_objection(
    session: Session,
    *,
    actor: User,
    objection_id: int,
    reason: str,
    ip: str | None = None,
    now: datetime | None = None,
) -> Objection:
    """Let a reviewer reopen a dismissed objection, with a reason; it holds the claim again.

    Only while the claim is still on notice and not posted (its notice may be over).
    """
    now = now or utcnow()
    try:
        objection, claim = _locked_claim(session, objection_id)
        check_decider(session, actor, claim)
        reason = decision_reason(reason)
        lock_row(session, "claim", "id", claim.id)
        _check_still(session, objection, claim, ObjectionState.DISMISSED)
        before = {"state": ObjectionState.DISMISSED, "resolution": objection.resolution}
        reopened: dict[str, Any] = {"state": ObjectionState.OPEN, "resolution": ""}
        reopened.update(resolved_by_id=None, resolved_at=None)
        _set_objection(session, objection, expect=ObjectionState.DISMISSED, values=reopened)
    except DomainError:
        session.rollback()
        raise
    audit.log(
        session,
        "objection.reopen",
        actor=actor,
        village_id=claim.village_id,
        obj=objection,
        ip=ip,
        at=now,
        before=before,
        after={"state": ObjectionState.OPEN, "claim_id": claim.id, "reason": reason},
    )
    session.commit()
    return objection
