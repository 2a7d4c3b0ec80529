"""The hash chain: what an entry's hash covers, the village's head, and appending an entry."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from credits.caps import cap_breach, cap_exceeded, period_of
from credits.db import is_postgres, lock_row
from credits.ledger import checkpoints
from credits.models import (
    Account,
    Balance,
    ChainHead,
    Claim,
    EntryKind,
    Household,
    LedgerEntry,
    Member,
    PeriodTotal,
    Rule,
    RuleVersion,
    Village,
)

GENESIS = "0" * 64
HASH_FORMAT = 2  # bump when the hashed content changes
# The entry's own columns that its hash covers (all but `hash`; the id is fixed first).
HASHED_FIELDS = (
    "id",
    "village_id",
    "seq",
    "account_id",
    "scheme_id",
    "household_id",
    "member_id",
    "kind",
    "points",
    "score_delta",
    "balance_delta",
    "period",
    "category",
    "title",
    "deed_date",
    "note",
    "reason",
    "claim_id",
    "rule_version_id",
    "reverses_id",
    "recorded_by_id",
    "approved_by_id",
    "posted_at",
    "prev_hash",
)
# Columns of the rows an entry refers to, hashed with it as they were when it was posted:
# an edit of the claim, rule version, account, household, member or reversed entry
# behind an entry breaks the entry's hash.
REFERENCED_FIELDS: dict[str, tuple[str, ...]] = {
    "claim": (
        "village_id",
        "account_id",
        "household_id",
        "member_id",
        "rule_id",
        "rule_version_id",
        "points",
        "deed_date",
        "note",
        "idempotency_key",
        "recorded_by_id",
        "recorded_at",
        "reviewed_by_id",
    ),
    "rule_version": ("village_id", "rule_id", "version", "category", "title", "points"),
    "account": ("village_id", "scheme_id", "household_id"),
    "household": ("village_id",),
    "member": ("household_id",),
    "reverses": ("village_id", "account_id", "seq", "points", "hash"),
}


def _plain(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.replace(microsecond=0).isoformat()
    if isinstance(v, date):
        return v.isoformat()
    return v


def referenced_values(
    claim: Claim | None = None,
    rule_version: RuleVersion | None = None,
    account: Account | None = None,
    household: Household | None = None,
    member: Member | None = None,
    reverses: LedgerEntry | None = None,
) -> dict[str, dict[str, Any] | None]:
    """Return the hashed columns of the rows an entry refers to (None for a missing row)."""
    rows = {
        "claim": claim,
        "rule_version": rule_version,
        "account": account,
        "household": household,
        "member": member,
        "reverses": reverses,
    }
    return {
        name: None if row is None else {c: getattr(row, c) for c in REFERENCED_FIELDS[name]}
        for name, row in rows.items()
    }


def entry_hash(values: dict[str, Any], refs: dict[str, Any] | None = None) -> str:
    """Hash an entry's content and the rows it refers to, its predecessor's hash included."""
    body = {k: _plain(values.get(k)) for k in HASHED_FIELDS}
    body["format"] = HASH_FORMAT
    body["refs"] = {
        name: None if row is None else {k: _plain(v) for k, v in row.items()}
        for name, row in (refs or {}).items()
    }
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def refs_of(session: Session, values: dict[str, Any]) -> dict[str, Any]:
    """Load the rows an entry (given as column values) refers to and return their values."""

    def get(model: Any, key: Any) -> Any:
        return session.get(model, key) if key is not None else None

    return referenced_values(
        claim=get(Claim, values.get("claim_id")),
        rule_version=get(RuleVersion, values.get("rule_version_id")),
        account=get(Account, values.get("account_id")),
        household=get(Household, values.get("household_id")),
        member=get(Member, values.get("member_id")),
        reverses=get(LedgerEntry, values.get("reverses_id")),
    )


def hash_of(session: Session, entry: LedgerEntry) -> str:
    """Recompute an entry's hash from the database as it is now."""
    values = {name: getattr(entry, name) for name in HASHED_FIELDS}
    return entry_hash(values, refs_of(session, values))


def short_code(digest: str) -> str:
    """Return the printable 64-bit code of a chain hash (e.g. 3F9A-1C2B-77D0-E5A1)."""
    return "-".join(digest[i : i + 4] for i in range(0, 16, 4)).upper()


def format_head(seq: int, digest: str) -> str:
    """Return the head code printed on paper: `#1234 · 3F9A-1C2B-77D0-E5A1`."""
    return f"#{seq} · {short_code(digest)}"


def head_code(session: Session, village_id: int) -> str:
    """Return the printable head code (sequence and 64 bits) of a village's chain."""
    head = session.get(ChainHead, village_id)
    return format_head(head.seq, head.hash) if head else format_head(0, GENESIS)


def _lock_head(session: Session, village_id: int) -> ChainHead:
    """Lock and return a village's chain head, creating it on the first posting.

    Villages get their head when created; for one that has none, the row is inserted
    with ON CONFLICT DO NOTHING, so two first postings racing both find one head row,
    and the row lock then puts them in one line (never a primary-key error).
    """
    if session.get(ChainHead, village_id) is None:
        dialect = postgresql if is_postgres(session) else sqlite
        session.execute(
            dialect.insert(ChainHead)
            .values(village_id=village_id, seq=0, hash=GENESIS)
            .on_conflict_do_nothing(index_elements=["village_id"])
        )
    lock_row(session, "chain_head", "village_id", village_id)
    head = session.get(ChainHead, village_id, populate_existing=True)
    assert head is not None
    return head


def ensure_balance(session: Session, account: Account) -> None:
    """Create an account's balance row if it has none yet."""
    if session.get(Balance, account.id) is None:
        session.add(Balance(account_id=account.id, village_id=account.village_id))
        session.flush()


def posted_rule_points(
    session: Session, account: Account, rule_id: int, first_period: int, last_period: int
) -> int:
    """Sum the absolute points an account was awarded under a rule in a range of periods.

    Entries that were later reversed do not count.
    """
    reversal = aliased(LedgerEntry)
    reversed_ = select(reversal.id).where(reversal.reverses_id == LedgerEntry.id).exists()
    total = session.scalar(
        select(func.coalesce(func.sum(func.abs(LedgerEntry.points)), 0))
        .join(RuleVersion, RuleVersion.id == LedgerEntry.rule_version_id)
        .where(
            LedgerEntry.village_id == account.village_id,
            LedgerEntry.account_id == account.id,
            LedgerEntry.kind.in_([EntryKind.AWARD, EntryKind.DEDUCTION]),
            LedgerEntry.claim_id.is_not(None),
            LedgerEntry.period >= first_period,
            LedgerEntry.period <= last_period,
            RuleVersion.rule_id == rule_id,
            ~reversed_,
        )
    )
    return int(total or 0)


def _check_posting_cap(
    session: Session, account: Account, rule_version_id: int, points: int, deed_date: date
) -> None:
    """Refuse a posting that would take the household past its rule's cap as it is now.

    Claims are checked against the cap when recorded; this second check at posting
    keeps the cap when it was lowered while claims waited in review or notice.
    Callers hold the village's chain head, so postings cannot race past it.
    """
    version = session.get(RuleVersion, rule_version_id)
    rule = session.get(Rule, version.rule_id) if version is not None else None
    if rule is None or (rule.cap_month is None and rule.cap_year is None):
        return
    month = period_of(deed_date)
    used_month = posted_rule_points(session, account, rule.id, month, month)
    year = deed_date.year * 100
    used_year = posted_rule_points(session, account, rule.id, year + 1, year + 12)
    breach = cap_breach(points, rule.cap_month, rule.cap_year, used_month, used_year)
    if breach:
        raise cap_exceeded(breach)


def _next_entry_id(session: Session) -> int:
    """Reserve the new entry's primary key, so that its hash can cover it."""
    if is_postgres(session):
        sql = "SELECT nextval(pg_get_serial_sequence('ledger_entry', 'id'))"
        return int(session.scalar(text(sql)))
    # SQLite: this transaction holds the database's write lock (BEGIN IMMEDIATE).
    return int(session.scalar(select(func.coalesce(func.max(LedgerEntry.id), 0))) or 0) + 1


def append_entry(
    session: Session,
    account: Account,
    *,
    kind: str,
    points: int,
    score_delta: int,
    balance_delta: int,
    deed_date: date,
    now: datetime,
    **fields: Any,
) -> LedgerEntry:
    """Append one entry on the village's chain and move the account's totals with it.

    An award or deduction posted from a claim must still fit under its rule's cap
    (CapExceeded otherwise; nothing is written). Once the transaction commits, the
    village's new head is signed into the checkpoint log (see `checkpoints`).
    """
    head = _lock_head(session, account.village_id)
    if kind in (EntryKind.AWARD, EntryKind.DEDUCTION) and fields.get("claim_id") is not None:
        version_id = fields.get("rule_version_id")
        if version_id is not None:
            _check_posting_cap(session, account, version_id, points, deed_date)
    values: dict[str, Any] = {
        "id": _next_entry_id(session),
        "village_id": account.village_id,
        "seq": head.seq + 1,
        "account_id": account.id,
        "scheme_id": account.scheme_id,
        "household_id": account.household_id,
        "kind": kind,
        "points": points,
        "score_delta": score_delta,
        "balance_delta": balance_delta,
        "period": period_of(deed_date),
        "deed_date": deed_date,
        "posted_at": now,
        "prev_hash": head.hash,
        "category": "",
        "title": "",
        "note": "",
        "reason": "",
        **fields,
    }
    session.flush()  # the rows the entry refers to carry their final values
    values["hash"] = entry_hash(values, refs_of(session, values))
    entry = LedgerEntry(**values)
    session.add(entry)
    head.seq, head.hash = entry.seq, entry.hash
    ensure_balance(session, account)
    session.execute(
        update(Balance)
        .where(Balance.account_id == account.id)
        .values(score=Balance.score + score_delta, balance=Balance.balance + balance_delta)
    )
    if score_delta:
        _add_period_total(session, account, entry.period, entry.category, score_delta)
    session.flush()
    village = session.get(Village, account.village_id)
    assert village is not None
    checkpoints.note_append(session, village.id, village.code, entry.seq, entry.hash)
    return entry


def _add_period_total(
    session: Session, account: Account, period: int, category: str, delta: int
) -> None:
    """Add a score change to the account's total for a month and category."""
    row = session.scalar(
        select(PeriodTotal).where(
            PeriodTotal.village_id == account.village_id,
            PeriodTotal.account_id == account.id,
            PeriodTotal.period == period,
            PeriodTotal.category == category,
        )
    )
    if row is None:
        session.add(
            PeriodTotal(
                village_id=account.village_id,
                scheme_id=account.scheme_id,
                account_id=account.id,
                household_id=account.household_id,
                period=period,
                category=category,
                score=delta,
            )
        )
    else:
        row.score += delta
