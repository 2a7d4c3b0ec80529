"""Regions (city › county › township), villages and their groups."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from credits.db import Base, utcnow

if TYPE_CHECKING:
    from credits.models.household import Household


class Region(Base):
    """A node of the administrative tree; `path` ("/1/4/9/") makes subtree queries cheap."""

    __tablename__ = "region"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"))
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(20))  # city | county | township
    path: Mapped[str] = mapped_column(String(255), default="/", index=True)

    parent: Mapped[Region | None] = relationship(remote_side=[id])


def new_card_secret() -> str:
    """Return a fresh, non-guessable key for a village's household cards (hex)."""
    return secrets.token_bytes(32).hex()


class Village(Base):
    """A 村 or 社区: the tenant every village-owned row points at."""

    __tablename__ = "village"

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    code: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # HMAC key of the village's QR cards, kept in the database (not derived from
    # SECRET_KEY) so cards keep working across servers and key rotation. Never shown.
    card_secret: Mapped[str] = mapped_column(String(64), default=new_card_secret)

    region: Mapped[Region] = relationship()

    @property
    def township_name(self) -> str:
        return self.region.name if self.region else ""


class Group(Base):
    """A 村民小组 of a village."""

    __tablename__ = "village_group"
    __table_args__ = (UniqueConstraint("village_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"))
    name: Mapped[str] = mapped_column(String(50))
    position: Mapped[int] = mapped_column(default=0)

    households: Mapped[list[Household]] = relationship(back_populates="group")


Index("ix_village_group_village_position", Group.village_id, Group.position)
