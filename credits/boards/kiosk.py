"""The village hall's TV (kiosk): signed links an admin creates and revokes, and what it shows."""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from credits import audit
from credits.access import Permission, require
from credits.clock import local_date
from credits.db import utcnow
from credits.errors import NotFound, ValidationError
from credits.i18n import N_
from credits.models import EntryKind, Household, KioskLink, LedgerEntry, User, Village
from credits.privacy import mask_name

MAX_LABEL = 50
_TOKEN = re.compile(r"^(\d{1,12})\.([0-9a-f]{32})$")


def _signature(village: Village, link_id: int) -> str:
    key = bytes.fromhex(village.card_secret)
    return hmac.new(key, f"kiosk:{link_id}".encode(), hashlib.sha256).hexdigest()[:32]


def token_for(village: Village, link: KioskLink) -> str:
    """The secret part of a kiosk URL: the link's id and its signature."""
    return f"{link.id}.{_signature(village, link.id)}"


def create_link(
    session: Session, *, actor: User, village_id: int, label: str, ip: str | None = None
) -> KioskLink:
    """Create a kiosk link for a village (village admins; audited)."""
    require(session, actor, Permission.MANAGE, village_id)
    label = (label or "").strip()
    if not label or len(label) > MAX_LABEL or "\x00" in label:
        raise ValidationError(N_("Name the screen in at most %(n)s characters."), n=MAX_LABEL)
    link = KioskLink(village_id=village_id, label=label, created_by_id=actor.id)
    session.add(link)
    audit.log(
        session,
        "kiosk.create",
        actor=actor,
        village_id=village_id,
        obj=link,
        ip=ip,
        after={"label": label},
    )
    session.commit()
    return link


def revoke_link(
    session: Session, *, actor: User, village_id: int, link_id: int, ip: str | None = None
) -> None:
    """Revoke a kiosk link: the screen showing it goes blank at its next refresh."""
    require(session, actor, Permission.MANAGE, village_id)
    link = session.get(KioskLink, link_id)
    if link is None or link.village_id != village_id:
        raise NotFound()
    if link.revoked_at is None:
        link.revoked_at = utcnow()
        audit.log(session, "kiosk.revoke", actor=actor, village_id=village_id, obj=link, ip=ip)
    session.commit()


def links(session: Session, village_id: int) -> list[KioskLink]:
    """A village's kiosk links, newest first."""
    return list(
        session.scalars(
            select(KioskLink)
            .where(KioskLink.village_id == village_id)
            .order_by(KioskLink.id.desc())
        )
    )


def resolve(session: Session, village_code: str, token: str) -> Village:
    """The village a live kiosk token opens, or NotFound (bad, forged or revoked)."""
    match = _TOKEN.match(token or "")
    if not match:
        raise NotFound()
    village = session.scalar(select(Village).where(Village.code == village_code[:32]))
    link = session.get(KioskLink, int(match[1])) if village is not None else None
    if (
        village is None
        or link is None
        or link.village_id != village.id
        or link.revoked_at is not None
        or not hmac.compare_digest(match[2], _signature(village, link.id))
    ):
        raise NotFound()
    return village


@dataclass(frozen=True)
class RecentAward:
    """A posted award for the kiosk's ticker: masked name, item, points, day."""

    name: str
    title: str
    points: int
    day: date


def recent_awards(session: Session, village_id: int, limit: int = 6) -> list[RecentAward]:
    """The latest posted awards of a village (the ledger's newest entries, by seq)."""
    rows = session.execute(
        select(Household.head_name, LedgerEntry.title, LedgerEntry.points, LedgerEntry.posted_at)
        .join(Household, Household.id == LedgerEntry.household_id)
        .where(LedgerEntry.village_id == village_id, LedgerEntry.kind == EntryKind.AWARD)
        .order_by(LedgerEntry.seq.desc())
        .limit(limit)
    )
    return [RecentAward(mask_name(n), t, p, local_date(at)) for n, t, p, at in rows]
