"""The one place a claim changes state: a compare-and-set, its audit event, a clear refusal.

Every state change of a claim (approve, reject, withdraw, uphold, dismiss-and-post,
post, the system's over-cap refusal) goes through `move`. It issues

    UPDATE claim SET state = :to, ... WHERE id = :id AND village_id = :v AND state = :from

and checks that exactly one row changed. Of two requests racing on one claim, the
second finds the state moved on and is refused with `ClaimMoved` (HTTP 409); on both
databases the UPDATE waits for the first writer's row (PostgreSQL) or database lock
(SQLite), so the check and the write are one step. The audit event is added to the
same transaction; the caller's service commits once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from credits import audit
from credits.errors import InvalidState
from credits.i18n import N_, gettext
from credits.models import Claim, ClaimState, User

# from-state -> the states a claim may move to from it. Nothing leaves a final state.
ALLOWED: dict[str, frozenset[str]] = {
    ClaimState.RECORDED: frozenset({ClaimState.NOTICED, ClaimState.REJECTED, ClaimState.WITHDRAWN}),
    ClaimState.NOTICED: frozenset({ClaimState.POSTED, ClaimState.WITHDRAWN, ClaimState.REJECTED}),
    ClaimState.POSTED: frozenset(),
    ClaimState.REJECTED: frozenset(),
    ClaimState.WITHDRAWN: frozenset(),
}

# How a state is named to the person who was too late (translated by the catalogue).
STATE_NAMES: dict[str, str] = {
    ClaimState.RECORDED: N_("waiting for review"),
    ClaimState.NOTICED: N_("in public notice"),
    ClaimState.POSTED: N_("posted"),
    ClaimState.REJECTED: N_("rejected"),
    ClaimState.WITHDRAWN: N_("withdrawn"),
}


class ClaimMoved(InvalidState):
    """The claim was no longer in the state the request expected: someone came first."""

    code = "claim_moved"
    status = 409
    message = N_(
        "This claim was changed in the meantime and is now %(state)s. "
        "Reload the page to see it as it is."
    )

    def translated(self, locale: str = "zh_CN") -> str:
        state = gettext(str(self.params.get("state", "")), locale)
        return gettext(self.message, locale, state=state)


class TransitionNotAllowed(InvalidState):
    """A programming error made visible as a refusal: the table has no such move."""

    code = "transition_not_allowed"
    status = 409
    message = N_("This claim can no longer be changed in that way.")


def state_name(state: str) -> str:
    """Return the catalogue key naming a claim state for people."""
    return STATE_NAMES.get(state, N_("changed"))


def move(
    session: Session,
    claim: Claim,
    *,
    to: str,
    action: str,
    actor: User | None,
    now: datetime,
    expect: str | Iterable[str] | None = None,
    values: Mapping[str, Any] | None = None,
    audit_after: Mapping[str, Any] | None = None,
    ip: str | None = None,
    actor_name: str | None = None,
) -> str:
    """Move `claim` to `to` if it is still in `expect` (default: its state as loaded).

    `values` are further columns written in the same UPDATE (reviewer, reason, times).
    Returns the state the claim left. Raises `ClaimMoved` when another request changed
    the claim first, and `TransitionNotAllowed` when the move is not in `ALLOWED`.
    Nothing is written when it raises.
    """
    if expect is None:
        expected = [str(claim.state)]
    elif isinstance(expect, str):
        expected = [expect]
    else:
        expected = [str(s) for s in expect]
    for state in expected:
        if to not in ALLOWED.get(state, frozenset()):
            raise TransitionNotAllowed()
    columns = {"state": to, **(values or {})}
    result = session.execute(
        update(Claim)
        .where(
            Claim.id == claim.id,
            Claim.village_id == claim.village_id,
            Claim.state.in_(expected),
        )
        .values(**columns)
        .returning(Claim.state)
        .execution_options(synchronize_session=False)
    )
    if result.first() is None:
        current = _current_state(session, claim)
        raise ClaimMoved(state=state_name(current))
    left = str(claim.state) if str(claim.state) in expected else expected[0]
    # Keep the loaded object in step with the row, without marking it dirty.
    for key, value in columns.items():
        set_committed_value(claim, key, value)
    after: dict[str, Any] = {"state": to}
    after.update(audit_after or {})
    audit.log(
        session,
        action,
        actor=actor,
        village_id=claim.village_id,
        obj=claim,
        ip=ip,
        at=now,
        actor_name=actor_name,
        before={"state": left},
        after=after,
    )
    return left


def _current_state(session: Session, claim: Claim) -> str:
    """Read the claim's state as the database has it now."""
    session.expire(claim, ["state"])
    return str(claim.state)
