"""Households (the account holders) and their members."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from credits.db import Base, utcnow
from credits.models.region import Group, Village


class Household(Base):
    """A 户: points of all its members pool into its accounts."""

    __tablename__ = "household"
    __table_args__ = (
        Index("ix_household_village_group", "village_id", "group_id"),
        Index("ix_household_village_house", "village_id", "house_number"),
        Index("ix_household_village_head", "village_id", "head_name"),
        Index("ix_household_village_head_key", "village_id", "head_key"),
        Index("ix_household_village_search_key", "village_id", "search_key"),
        UniqueConstraint("village_id", "idempotency_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("village_group.id"))
    head_name: Mapped[str] = mapped_column(String(50))
    house_number: Mapped[str] = mapped_column(String(50), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    special_needs: Mapped[str] = mapped_column(String(30), default="")  # elderly_alone, disabled
    card_version: Mapped[int] = mapped_column(default=1)
    card_revoked: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Lower-case search text kept by credits.search: " name initials pinyin " per person.
    head_key: Mapped[str] = mapped_column(String(200), default="")
    search_key: Mapped[str] = mapped_column(String(1000), default="")
    # The form submission that created it, so a double tap creates one household.
    idempotency_key: Mapped[str | None] = mapped_column(String(64))

    village: Mapped[Village] = relationship()
    group: Mapped[Group | None] = relationship(back_populates="households")
    members: Mapped[list[Member]] = relationship(back_populates="household", order_by="Member.id")


class Member(Base):
    """A person of a household; an entry may name who did the deed."""

    __tablename__ = "member"
    __table_args__ = (
        Index("ix_member_village_household", "village_id", "household_id"),
        UniqueConstraint("village_id", "idempotency_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"))
    name: Mapped[str] = mapped_column(String(50))
    relation: Mapped[str] = mapped_column(String(20), default="")  # 户主, 配偶, 子, 女 …
    gender: Mapped[str] = mapped_column(String(4), default="")
    birth_year: Mapped[int | None] = mapped_column()
    phone: Mapped[str] = mapped_column(String(30), default="")
    active: Mapped[bool] = mapped_column(default=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(64))

    household: Mapped[Household] = relationship(back_populates="members")
