"""The append-only ledger, its per-village hash chain head, balances and period totals."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from credits.db import Base
from credits.models.household import Household, Member
from credits.models.scheme import Account, Scheme


class EntryKind(StrEnum):
    AWARD = "award"
    DEDUCTION = "deduction"
    REDEMPTION = "redemption"
    REVERSAL = "reversal"
    ADJUSTMENT = "adjustment"


class LedgerEntry(Base):
    """An immutable 账目; `hash` covers its content and its predecessor's hash."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        UniqueConstraint("village_id", "seq"),
        Index("ix_ledger_entry_village_account", "village_id", "account_id", "seq"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"))
    seq: Mapped[int] = mapped_column()
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    scheme_id: Mapped[int] = mapped_column(ForeignKey("scheme.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    kind: Mapped[str] = mapped_column(String(20))
    points: Mapped[int] = mapped_column()
    score_delta: Mapped[int] = mapped_column()
    balance_delta: Mapped[int] = mapped_column()
    period: Mapped[int] = mapped_column()  # yyyymm of the deed
    category: Mapped[str] = mapped_column(String(50), default="")
    title: Mapped[str] = mapped_column(String(200), default="")
    deed_date: Mapped[date] = mapped_column()
    note: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claim.id"), unique=True)
    rule_version_id: Mapped[int | None] = mapped_column(ForeignKey("rule_version.id"))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entry.id"), unique=True)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    posted_at: Mapped[datetime] = mapped_column()
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    account: Mapped[Account] = relationship()
    scheme: Mapped[Scheme] = relationship()
    household: Mapped[Household] = relationship()
    member: Mapped[Member | None] = relationship()
    reverses: Mapped[LedgerEntry | None] = relationship(
        remote_side=[id], foreign_keys=[reverses_id]
    )


class ChainHead(Base):
    """The last link of a village's chain; postings lock this row to stay in one line."""

    __tablename__ = "chain_head"

    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(default=0)
    hash: Mapped[str] = mapped_column(String(64))


class Balance(Base):
    """Cached totals of an account: score (honour, never spent) and balance (spendable)."""

    __tablename__ = "balance"
    __table_args__ = (Index("ix_balance_village_score", "village_id", "score"),)

    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"))
    score: Mapped[int] = mapped_column(default=0)
    balance: Mapped[int] = mapped_column(default=0)

    account: Mapped[Account] = relationship()


class PeriodTotal(Base):
    """Score change of an account in one month and category, kept for leaderboards."""

    __tablename__ = "period_total"
    __table_args__ = (
        UniqueConstraint("village_id", "account_id", "period", "category"),
        Index("ix_period_total_village_scheme_period", "village_id", "scheme_id", "period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"))
    scheme_id: Mapped[int] = mapped_column(ForeignKey("scheme.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"))
    period: Mapped[int] = mapped_column()
    category: Mapped[str] = mapped_column(String(50))
    score: Mapped[int] = mapped_column(default=0)


class LedgerImmutable(RuntimeError):
    """Raised when code tries to change or delete a ledger entry through the ORM."""


@event.listens_for(Session, "before_flush")
def _refuse_ledger_changes(session: Session, _context: object, _instances: object) -> None:
    # The ledger is append-only: a correction is a reversal entry, never an edit.
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, LedgerEntry) and (
            obj in session.deleted or session.is_modified(obj, include_collections=False)
        ):
            raise LedgerImmutable(f"ledger entry {obj.id} may not be changed or deleted")


from credits.models.ledger_triggers import attach as _attach_triggers  # noqa: E402

_attach_triggers(LedgerEntry.__table__)  # type: ignore[arg-type]
