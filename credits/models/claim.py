"""Claims (申报) moving through review and notice, and objections raised against them."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from credits.db import Base, utcnow
from credits.models.household import Household, Member
from credits.models.scheme import Account, Rule, RuleVersion, Scheme

if TYPE_CHECKING:
    from credits.models.ledger import LedgerEntry
    from credits.models.user import User


class ClaimState(StrEnum):
    RECORDED = "recorded"  # waiting for review
    NOTICED = "noticed"  # approved, in its public notice window
    POSTED = "posted"  # became a ledger entry
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class ClaimKind(StrEnum):
    DEED = "deed"  # an award or deduction for something a household did
    CORRECTION = "correction"  # 更正: reverses a posted entry once decided and noticed


LIVE_STATES = (ClaimState.RECORDED, ClaimState.NOTICED, ClaimState.POSTED)


class Claim(Base):
    """A proposed award, deduction or correction, not counted until posted.

    A correction (kind "correction") names the entry it reverses; its points are that
    entry's negated and its note is the reason. It is reviewed and noticed like a deed.
    """

    __tablename__ = "claim"
    __table_args__ = (
        UniqueConstraint("village_id", "idempotency_key"),
        Index("ix_claim_village_state_notice", "village_id", "state", "notice_until"),
        Index("ix_claim_village_household_rule", "village_id", "household_id", "rule_id"),
        Index("ix_claim_village_reverses_entry", "village_id", "reverses_entry_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"))
    scheme_id: Mapped[int] = mapped_column(ForeignKey("scheme.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    rule_id: Mapped[int] = mapped_column(ForeignKey("rule.id"))
    rule_version_id: Mapped[int] = mapped_column(ForeignKey("rule_version.id"))
    points: Mapped[int] = mapped_column()
    deed_date: Mapped[date] = mapped_column()
    note: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(20), default=ClaimState.RECORDED)
    idempotency_key: Mapped[str] = mapped_column(String(64))
    payload_hash: Mapped[str] = mapped_column(String(64))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column()
    reject_reason: Mapped[str] = mapped_column(Text, default="")
    notice_until: Mapped[datetime | None] = mapped_column()
    withdrawn_at: Mapped[datetime | None] = mapped_column()
    withdraw_reason: Mapped[str] = mapped_column(Text, default="")
    posted_at: Mapped[datetime | None] = mapped_column()
    kind: Mapped[str] = mapped_column(String(20), default=ClaimKind.DEED, server_default="deed")
    # The entry a correction reverses (ledger_entry also points at claim: created by ALTER).
    reverses_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("ledger_entry.id", use_alter=True)
    )

    scheme: Mapped[Scheme] = relationship()
    account: Mapped[Account] = relationship()
    household: Mapped[Household] = relationship()
    member: Mapped[Member | None] = relationship()
    rule: Mapped[Rule] = relationship()
    rule_version: Mapped[RuleVersion] = relationship()
    recorded_by: Mapped[User] = relationship(foreign_keys=[recorded_by_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])
    reverses_entry: Mapped[LedgerEntry | None] = relationship(foreign_keys=[reverses_entry_id])
    objections: Mapped[list[Objection]] = relationship(
        back_populates="claim", order_by="Objection.id"
    )

    @property
    def is_deduction(self) -> bool:
        return self.points < 0

    @property
    def is_correction(self) -> bool:
        return self.kind == ClaimKind.CORRECTION


class ObjectionState(StrEnum):
    OPEN = "open"
    UPHELD = "upheld"  # the claim is withdrawn
    DISMISSED = "dismissed"


class Objection(Base):
    """An 异议 raised against a claim during its notice window; an open one holds it."""

    __tablename__ = "objection"
    __table_args__ = (Index("ix_objection_village_claim", "village_id", "claim_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"))
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id"))
    name: Mapped[str] = mapped_column(String(50))
    contact: Mapped[str] = mapped_column(String(100), default="")
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20), default=ObjectionState.OPEN)
    received_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    resolved_at: Mapped[datetime | None] = mapped_column()
    resolution: Mapped[str] = mapped_column(Text, default="")

    claim: Mapped[Claim] = relationship(back_populates="objections")
