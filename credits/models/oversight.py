"""Village-level aggregates for the township view, and villagers' proposals (申报)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from credits.db import Base, utcnow


class VillagePeriod(Base):
    """A village's totals in one period key: "2026-11", "2026-Q4", "2026" or "all".

    Kept at posting by credits.oversight.aggregates, so the township view reads one row
    per village whatever the number of entries.
    """

    __tablename__ = "village_period"

    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"), primary_key=True)
    period: Mapped[str] = mapped_column(String(8), primary_key=True)
    households_active: Mapped[int] = mapped_column(default=0)  # ≥1 posted award
    awards: Mapped[int] = mapped_column(default=0)
    points_awarded: Mapped[int] = mapped_column(default=0)  # net of reversed awards
    deductions: Mapped[int] = mapped_column(default=0)
    points_deducted: Mapped[int] = mapped_column(default=0)  # positive, net of reversals
    redemptions: Mapped[int] = mapped_column(default=0)
    points_redeemed: Mapped[int] = mapped_column(default=0)  # positive
    reversals: Mapped[int] = mapped_column(default=0)
    score_net: Mapped[int] = mapped_column(default=0)
    balance_net: Mapped[int] = mapped_column(default=0)  # "all": points outstanding
    last_posted_at: Mapped[datetime | None] = mapped_column()


class VillagePeriodStat(Base):
    """Points of a village's scheme in one month and category (the category chart)."""

    __tablename__ = "village_period_stat"

    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"), primary_key=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("scheme.id"), primary_key=True)
    period: Mapped[int] = mapped_column(primary_key=True)  # yyyymm
    category: Mapped[str] = mapped_column(String(50), primary_key=True)
    awards: Mapped[int] = mapped_column(default=0)
    points_awarded: Mapped[int] = mapped_column(default=0)
    deductions: Mapped[int] = mapped_column(default=0)
    points_deducted: Mapped[int] = mapped_column(default=0)


class VillagePeriodHousehold(Base):
    """Marker: the household had a posted award in the period key (counts it once)."""

    __tablename__ = "village_period_household"

    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"), primary_key=True)
    period: Mapped[str] = mapped_column(String(8), primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), primary_key=True)


class ProposalState:
    DRAFT = "draft"
    CONFIRMED = "confirmed"
    DECLINED = "declined"


class Proposal(Base):
    """A deed a villager proposed from the passbook; a clerk confirms or declines it."""

    __tablename__ = "proposal"
    __table_args__ = (
        Index("ix_proposal_village_state", "village_id", "state", "created_at"),
        Index("ix_proposal_village_household", "village_id", "household_id", "created_at"),
        Index("ix_proposal_village_ip", "village_id", "ip", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"))
    rule_id: Mapped[int] = mapped_column(ForeignKey("rule.id"))
    deed_date: Mapped[date] = mapped_column()
    note: Mapped[str] = mapped_column(Text, default="")
    name: Mapped[str] = mapped_column(String(50), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    ip: Mapped[str] = mapped_column(String(45), default="")
    state: Mapped[str] = mapped_column(String(20), default=ProposalState.DRAFT)
    decline_reason: Mapped[str] = mapped_column(Text, default="")
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claim.id"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    decided_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
