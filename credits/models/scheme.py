"""Schemes, their versioned rules and the household accounts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from credits.db import Base, utcnow
from credits.models.household import Household
from credits.models.region import Village


class Scheme(Base):
    """One points bank of a village (功德银行, 家风银行 …)."""

    __tablename__ = "scheme"
    __table_args__ = (UniqueConstraint("village_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"))
    key: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(50))
    unit: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text, default="")
    notice_days: Mapped[int] = mapped_column(default=7)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    village: Mapped[Village] = relationship()
    rules: Mapped[list[Rule]] = relationship(
        back_populates="scheme", order_by="(Rule.position, Rule.id)"
    )


class Rule(Base):
    """An item of the 积分细则; its current wording mirrors its latest RuleVersion."""

    __tablename__ = "rule"
    __table_args__ = (
        UniqueConstraint("village_id", "scheme_id", "code"),
        Index("ix_rule_village_scheme_position", "village_id", "scheme_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"))
    scheme_id: Mapped[int] = mapped_column(ForeignKey("scheme.id"))
    code: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(50))
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(String(200))
    points: Mapped[int] = mapped_column()
    cap_month: Mapped[int | None] = mapped_column()
    cap_year: Mapped[int | None] = mapped_column()
    evidence_required: Mapped[bool] = mapped_column(default=False)
    red_line: Mapped[bool] = mapped_column(default=False)
    version: Mapped[int] = mapped_column(default=1)
    active: Mapped[bool] = mapped_column(default=True)

    scheme: Mapped[Scheme] = relationship(back_populates="rules")
    versions: Mapped[list[RuleVersion]] = relationship(
        back_populates="rule", order_by="RuleVersion.version"
    )

    @property
    def is_deduction(self) -> bool:
        return self.points < 0


class RuleVersion(Base):
    """A frozen wording and value of a rule; claims and entries point here."""

    __tablename__ = "rule_version"
    __table_args__ = (UniqueConstraint("village_id", "rule_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"))
    rule_id: Mapped[int] = mapped_column(ForeignKey("rule.id"))
    version: Mapped[int] = mapped_column()
    category: Mapped[str] = mapped_column(String(50))
    title: Mapped[str] = mapped_column(String(200))
    points: Mapped[int] = mapped_column()
    cap_month: Mapped[int | None] = mapped_column()
    cap_year: Mapped[int | None] = mapped_column()
    evidence_required: Mapped[bool] = mapped_column(default=False)
    red_line: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    rule: Mapped[Rule] = relationship(back_populates="versions")


class Account(Base):
    """One household's account in one scheme."""

    __tablename__ = "account"
    __table_args__ = (UniqueConstraint("village_id", "scheme_id", "household_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"))
    scheme_id: Mapped[int] = mapped_column(ForeignKey("scheme.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"))

    scheme: Mapped[Scheme] = relationship()
    household: Mapped[Household] = relationship()
