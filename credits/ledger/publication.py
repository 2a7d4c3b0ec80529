"""What a village publishes about its ledger: the head code and the signed checkpoints."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from credits.errors import NotFound, ValidationError
from credits.i18n import N_
from credits.ledger import checkpoints
from credits.ledger.chain import head_code
from credits.models import Village

PAGE = 200
MAX_SEQ = 10**12
BAD_AFTER = N_("'after' must be a whole number of at most 12 digits.")


@dataclass
class PublicLedger:
    village: Village
    head_code: str
    public_key: str | None  # None when this installation signs no checkpoints
    checkpoints: list[dict[str, Any]] = field(default_factory=list)
    next_after: int | None = None  # pass as ?after= for the next page


def public_village(session: Session, code: str) -> Village:
    """Return the village of a public address (NotFound for anything else)."""
    village = None
    if code and len(code) <= 32 and checkpoints.SAFE_CODE.match(code):
        village = session.scalar(select(Village).where(Village.code == code))
    if village is None:
        raise NotFound(N_("No village has the code %(code)s."), code=code[:32])
    return village


def parse_after(value: str | None) -> int:
    """Read the ?after= of a checkpoint page (0 when absent)."""
    if value is None or value == "":
        return 0
    value = value.strip()
    if not value.isascii() or not value.isdigit() or len(value) > 12:
        raise ValidationError(BAD_AFTER)
    return int(value)


def public_ledger(
    session: Session,
    code: str,
    *,
    after: int = 0,
    limit: int | None = None,
    newest_first: bool = False,
) -> PublicLedger:
    """Return a village's head code and a page of its signed checkpoints (reads only)."""
    limit = PAGE if limit is None else limit
    village = public_village(session, code)
    result = PublicLedger(village, head_code(session, village.id), None)
    anchor = checkpoints.anchor_for(session)
    if anchor is None:
        return result
    result.public_key = anchor.public_key
    if newest_first:
        every = checkpoints.published(anchor, village.code, after, limit=MAX_SEQ)
        result.checkpoints = list(reversed(every))[:limit]
        return result
    page = checkpoints.published(anchor, village.code, after, limit=limit + 1)
    result.checkpoints = page[:limit]
    if len(page) > limit:
        result.next_after = page[limit - 1]["seq"]
    return result
