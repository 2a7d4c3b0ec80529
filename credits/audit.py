"""Writing audit events; every service that changes something calls `log`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from credits.db import utcnow
from credits.i18n import N_
from credits.models import AuditEvent, User

# What each action code means, for people reading the log (codes stay stable in exports).
ACTION_LABELS: dict[str, str] = {
    "login": N_("Logged in"),
    "logout": N_("Logged out"),
    "login.failed": N_("Failed login"),
    "login.locked": N_("Login refused: account locked"),
    "user.create": N_("User created"),
    "village.create": N_("Village created"),
    "scheme.create": N_("Scheme created"),
    "rule.change": N_("Rule changed"),
    "rule.create": N_("Rule added"),
    "rule.retire": N_("Rule retired"),
    "rule.activate": N_("Rule brought back"),
    "household.create": N_("Household added"),
    "household.update": N_("Household changed"),
    "household.move": N_("Household moved to another group"),
    "household.deactivate": N_("Household deactivated"),
    "household.reactivate": N_("Household reactivated"),
    "household.import": N_("Household imported"),
    "household.import_update": N_("Household updated by import"),
    "member.create": N_("Member added"),
    "member.update": N_("Member changed"),
    "member.deactivate": N_("Member deactivated"),
    "member.reactivate": N_("Member reactivated"),
    "evidence.upload": N_("Photo uploaded"),
    "claim.record": N_("Claim recorded"),
    "claim.batch": N_("Batch award recorded"),
    "claim.approve": N_("Claim approved"),
    "claim.reject": N_("Claim rejected"),
    "claim.withdraw": N_("Claim withdrawn"),
    "claim.post": N_("Claim posted to the ledger"),
    "entry.reverse": N_("Entry reversed"),
    "correction.propose": N_("Correction proposed"),
    "objection.raise": N_("Objection raised"),
    "objection.record_paper": N_("Paper objection recorded"),
    "objection.uphold": N_("Objection upheld"),
    "objection.dismiss": N_("Objection dismissed"),
    "objection.reopen": N_("Objection reopened"),
    "card.reissue": N_("Card reissued"),
    "card.revoke": N_("Card revoked"),
    "ledger.rebuild": N_("Balances rebuilt"),
    "audit.export": N_("Audit log exported"),
    "scheme.policy": N_("Scheme policy changed"),
    "period.close": N_("Period closed"),
    "kiosk.create": N_("Kiosk link created"),
    "kiosk.revoke": N_("Kiosk link revoked"),
}


def _plain(value: Any) -> Any:
    """Turn a value into something JSON can store."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def snapshot(obj: Any, *fields: str) -> dict[str, Any]:
    """Return the named attributes of an object as a JSON-friendly dict."""
    return {f: _plain(getattr(obj, f)) for f in fields}


def log(
    session: Session,
    action: str,
    *,
    actor: User | None,
    village_id: int | None,
    obj: Any = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    ip: str | None = None,
    at: datetime | None = None,
    actor_name: str | None = None,
) -> AuditEvent:
    """Add an audit event to the session (the caller's transaction commits it)."""
    if obj is not None and getattr(obj, "id", None) is None:
        session.flush()
    event = AuditEvent(
        village_id=village_id,
        actor_id=actor.id if actor else None,
        actor_name=actor_name if actor_name is not None else (actor.display_name if actor else ""),
        action=action,
        object_type=type(obj).__name__.lower() if obj is not None else "",
        object_id=getattr(obj, "id", None),
        at=at or utcnow(),
        ip=ip or "",
        before=_plain(before) if before is not None else None,
        after=_plain(after) if after is not None else None,
    )
    session.add(event)
    return event
