"""Boards and honour: scheme policies, exclusive rule groups, board tallies, closed periods,
kiosk links."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Connection,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from credits.db import Base, utcnow
from credits.models.ledger import EntryKind, LedgerEntry
from credits.models.scheme import RuleVersion


class SchemePolicy(Base):
    """The yearly policy of one scheme: base score, threshold, reset, expiry, stars, boards."""

    __tablename__ = "scheme_policy"
    __table_args__ = (UniqueConstraint("village_id", "scheme_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"))
    scheme_id: Mapped[int] = mapped_column(ForeignKey("scheme.id"))
    base_score: Mapped[int] = mapped_column(default=0)
    threshold: Mapped[int | None] = mapped_column()
    reset: Mapped[str] = mapped_column(String(10), default="carry")  # carry | yearly
    expiry_years: Mapped[int | None] = mapped_column()
    # e.g. {"kind": "category", "min_points": 20} or {"kind": "score", "levels": [50, 100]}
    star_rules: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    adopted_on: Mapped[date | None] = mapped_column()  # 村民代表大会 adopted the 细则
    mask_red_names: Mapped[bool] = mapped_column(default=False)
    black_board: Mapped[bool] = mapped_column(default=False)
    committee: Mapped[str] = mapped_column(String(100), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class RuleGroup(Base):
    """Rules of which one deed earns one only (the highest): an exclusive group."""

    __tablename__ = "rule_group"
    __table_args__ = (UniqueConstraint("village_id", "scheme_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"))
    scheme_id: Mapped[int] = mapped_column(ForeignKey("scheme.id"))
    name: Mapped[str] = mapped_column(String(50))

    members: Mapped[list[RuleGroupMember]] = relationship(
        back_populates="group", cascade="all, delete-orphan"
    )


class RuleGroupMember(Base):
    """A rule's place in an exclusive group; a rule belongs to at most one group."""

    __tablename__ = "rule_group_member"
    __table_args__ = (UniqueConstraint("village_id", "rule_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"))
    group_id: Mapped[int] = mapped_column(ForeignKey("rule_group.id"))
    rule_id: Mapped[int] = mapped_column(ForeignKey("rule.id"))

    group: Mapped[RuleGroup] = relationship(back_populates="members")


class BoardTally(Base):
    """Per household, member (0: none named), month and category: what the boards need
    beyond PeriodTotal — member points, deductions, award counts, red-line deductions.

    Kept by a flush hook on new ledger entries (credits.boards.tally), never edited.
    """

    __tablename__ = "board_tally"
    __table_args__ = (
        UniqueConstraint(
            "village_id", "scheme_id", "household_id", "member_id", "period", "category"
        ),
        Index("ix_board_tally_village_scheme_period", "village_id", "scheme_id", "period"),
        # Deductions and red lines are rare: these find them without reading every month.
        Index("ix_board_tally_village_scheme_deductions", "village_id", "scheme_id", "deductions"),
        Index("ix_board_tally_village_scheme_red_lines", "village_id", "scheme_id", "red_lines"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"))
    scheme_id: Mapped[int] = mapped_column(ForeignKey("scheme.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"))
    member_id: Mapped[int] = mapped_column(default=0)  # 0 when the entry names nobody
    period: Mapped[int] = mapped_column()
    category: Mapped[str] = mapped_column(String(50))
    score: Mapped[int] = mapped_column(default=0)
    awards: Mapped[int] = mapped_column(default=0)  # number of awards (net of reversals)
    deductions: Mapped[int] = mapped_column(default=0)  # number of deductions (net)
    red_lines: Mapped[int] = mapped_column(default=0)  # red-line deductions (net)


class ClosedPeriod(Base):
    """A month or quarter an admin closed: its ranking is fixed with the ledger head."""

    __tablename__ = "closed_period"
    __table_args__ = (UniqueConstraint("village_id", "scheme_id", "label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"))
    scheme_id: Mapped[int] = mapped_column(ForeignKey("scheme.id"))
    label: Mapped[str] = mapped_column(String(10))  # 2026-11, 2026-Q4
    kind: Mapped[str] = mapped_column(String(10))  # month | quarter
    first: Mapped[int] = mapped_column()  # yyyymm
    last: Mapped[int] = mapped_column()
    closed_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    head_seq: Mapped[int] = mapped_column(default=0)
    head_code: Mapped[str] = mapped_column(String(24), default="")
    households: Mapped[int] = mapped_column(default=0)
    committee: Mapped[str] = mapped_column(String(100), default="")

    rows: Mapped[list[ClosedStanding]] = relationship(
        back_populates="closed", order_by="(ClosedStanding.category, ClosedStanding.position)"
    )


class ClosedStanding(Base):
    """One fixed line of a closed period's board (category '' is the overall board)."""

    __tablename__ = "closed_standing"
    __table_args__ = (
        UniqueConstraint("village_id", "closed_id", "category", "position"),
        Index("ix_closed_standing_village_closed", "village_id", "closed_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"))
    closed_id: Mapped[int] = mapped_column(ForeignKey("closed_period.id"))
    category: Mapped[str] = mapped_column(String(50), default="")
    position: Mapped[int] = mapped_column()
    rank: Mapped[int] = mapped_column()
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"))
    head_name: Mapped[str] = mapped_column(String(50))
    house_number: Mapped[str] = mapped_column(String(50), default="")
    group_name: Mapped[str] = mapped_column(String(50), default="")
    points: Mapped[int] = mapped_column()
    deductions: Mapped[int] = mapped_column(default=0)
    stars: Mapped[int] = mapped_column(default=0)
    barred: Mapped[bool] = mapped_column(default=False)
    citation: Mapped[str] = mapped_column(Text, default="")

    closed: Mapped[ClosedPeriod] = relationship(back_populates="rows")


class KioskLink(Base):
    """A signed link that opens the village hall's TV page; revocable."""

    __tablename__ = "kiosk_link"
    __table_args__ = (Index("ix_kiosk_link_village", "village_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"))
    label: Mapped[str] = mapped_column(String(50), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    revoked_at: Mapped[datetime | None] = mapped_column()


# The black board reads the deductions of one period, newest first: this index keeps that
# read to the period's deductions instead of the village's whole ledger.
Index(
    "ix_ledger_entry_village_kind_period",
    LedgerEntry.village_id,
    LedgerEntry.kind,
    LedgerEntry.period,
    LedgerEntry.seq,
)


# ---- the tally hook: one place, on the posting path --------------------------------


def _tally_deltas(connection: Connection, entry: LedgerEntry) -> tuple[int, int, int] | None:
    """What an entry changes in the counts (awards, deductions, red lines), None if nothing."""
    kind, version_id, sign = entry.kind, entry.rule_version_id, 1
    if kind == EntryKind.REVERSAL and entry.reverses_id is not None:
        row = connection.execute(
            select(LedgerEntry.kind, LedgerEntry.rule_version_id).where(
                LedgerEntry.id == entry.reverses_id
            )
        ).first()
        if row is None:
            return None
        kind, version_id, sign = row[0], row[1], -1
    if kind == EntryKind.AWARD:
        return sign, 0, 0
    if kind == EntryKind.DEDUCTION:
        red = bool(
            version_id is not None
            and connection.scalar(select(RuleVersion.red_line).where(RuleVersion.id == version_id))
        )
        return 0, sign, sign if red else 0
    return 0, 0, 0


@event.listens_for(Session, "after_flush")
def _tally_new_entries(session: Session, _context: object) -> None:
    # Runs in the posting transaction, after append_entry flushed its entry; the
    # village's chain head is locked then, so tallies of one village never race.
    entries = [obj for obj in session.new if isinstance(obj, LedgerEntry)]
    if not entries:
        return
    connection = session.connection()
    table: Table = BoardTally.__table__  # type: ignore[assignment]
    for entry in sorted(entries, key=lambda e: e.seq):
        counts = _tally_deltas(connection, entry)
        if counts is None or (not entry.score_delta and counts == (0, 0, 0)):
            continue
        awards, deductions, red_lines = counts
        key = {
            "village_id": entry.village_id,
            "scheme_id": entry.scheme_id,
            "household_id": entry.household_id,
            "member_id": entry.member_id or 0,
            "period": entry.period,
            "category": entry.category or "",
        }
        where = [table.c[name] == value for name, value in key.items()]
        done = connection.execute(
            update(table)
            .where(*where)
            .values(
                score=table.c.score + entry.score_delta,
                awards=table.c.awards + awards,
                deductions=table.c.deductions + deductions,
                red_lines=table.c.red_lines + red_lines,
            )
        )
        if not done.rowcount:
            connection.execute(
                insert(table).values(
                    **key,
                    score=entry.score_delta,
                    awards=awards,
                    deductions=deductions,
                    red_lines=red_lines,
                )
            )
