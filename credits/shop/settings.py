"""A village's shop settings: shared or per-scheme balance, yuan per point, donor list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from credits import audit
from credits.access import Permission, require
from credits.db import utcnow
from credits.errors import ValidationError
from credits.i18n import N_
from credits.models import BalanceMode, ShopSettings, User

MAX_FEN_PER_POINT = 100_000  # 1 point = 1,000 yuan at most


@dataclass(frozen=True)
class Settings:
    """What the shop of a village is set to (defaults when nothing was saved)."""

    balance_mode: str = BalanceMode.PER_SCHEME
    fen_per_point: int = 100
    donors_public: bool = True

    @property
    def shared(self) -> bool:
        return self.balance_mode == BalanceMode.SHARED

    @property
    def yuan_per_point(self) -> str:
        """The yuan value of one point, written as the village wrote it (1, 0.5, 2.5)."""
        return yuan_text(self.fen_per_point)


def yuan_text(fen: int) -> str:
    """Write an amount of fen as yuan: 1250 → "12.5", 100 → "1"."""
    sign = "-" if fen < 0 else ""
    whole, part = divmod(abs(fen), 100)
    return f"{sign}{whole}" if not part else f"{sign}{whole}.{part:02d}".rstrip("0")


def parse_yuan(text: str) -> int:
    """Read a yuan amount typed by a person (12, 12.5, 12.50) as fen; refuse anything else."""
    raw = (text or "").strip().replace("，", ".").replace("元", "")
    whole, _sep, part = raw.partition(".")
    if not whole.isdigit() or len(whole) > 7 or (part and (not part.isdigit() or len(part) > 2)):
        raise ValidationError(N_("Enter an amount in yuan, such as 12 or 12.5."))
    return int(whole) * 100 + int((part + "00")[:2] if part else 0)


def get_settings(session: Session, village_id: int) -> Settings:
    """Return the shop settings of a village."""
    row = session.get(ShopSettings, village_id)
    if row is None:
        return Settings()
    return Settings(row.balance_mode, row.fen_per_point, row.donors_public)


def save_settings(
    session: Session,
    *,
    actor: User,
    village_id: int,
    balance_mode: str,
    fen_per_point: int,
    donors_public: bool,
    ip: str | None = None,
    now: datetime | None = None,
) -> Settings:
    """Change a village's shop settings (village admins only)."""
    require(session, actor, Permission.MANAGE, village_id)
    if balance_mode not in (BalanceMode.PER_SCHEME, BalanceMode.SHARED):
        raise ValidationError(N_("Choose how the schemes' points are spent."))
    if not 0 < fen_per_point <= MAX_FEN_PER_POINT:
        raise ValidationError(N_("The yuan value of a point must be more than 0."))
    before = get_settings(session, village_id)
    row = session.get(ShopSettings, village_id)
    if row is None:
        row = ShopSettings(village_id=village_id)
        session.add(row)
    row.balance_mode, row.fen_per_point, row.donors_public = (
        balance_mode,
        fen_per_point,
        donors_public,
    )
    row.updated_at, row.updated_by_id = now or utcnow(), actor.id
    audit.log(
        session,
        "shop.settings",
        actor=actor,
        village_id=village_id,
        ip=ip,
        at=now,
        before=before.__dict__,
        after={
            "balance_mode": balance_mode,
            "fen_per_point": fen_per_point,
            "donors_public": donors_public,
        },
    )
    session.commit()
    return get_settings(session, village_id)
