"""The append-only ledger: posting, reversal, the hash chain, verification and rebuild."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from credits import audit
from credits.access import Permission, check_recusal, require
from credits.caps import period_of
from credits.db import lock_row, utcnow
from credits.errors import AlreadyReversed, InvalidState, NotFound, ValidationError
from credits.i18n import N_
from credits.models import (
    Account,
    Balance,
    ChainHead,
    EntryKind,
    LedgerEntry,
    PeriodTotal,
    User,
    Village,
)

GENESIS = "0" * 64
HASHED_FIELDS = (
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


def entry_hash(values: dict[str, Any]) -> str:
    """Hash an entry's content, its predecessor's hash included, canonically."""

    def plain(v: Any) -> Any:
        if isinstance(v, datetime):
            return v.replace(microsecond=0).isoformat()
        if isinstance(v, date):
            return v.isoformat()
        return v

    body = json.dumps(
        {k: plain(values.get(k)) for k in HASHED_FIELDS},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode()).hexdigest()


def short_code(digest: str) -> str:
    """Return the printable head code of a chain hash (e.g. 3F9A-1C2B)."""
    return f"{digest[:4]}-{digest[4:8]}".upper()


def head_code(session: Session, village_id: int) -> str:
    """Return the short code of a village's chain head, for printouts."""
    head = session.get(ChainHead, village_id)
    return short_code(head.hash if head else GENESIS)


def _lock_head(session: Session, village_id: int) -> ChainHead:
    """Lock and return a village's chain head, creating it on the first posting."""
    lock_row(session, "chain_head", "village_id", village_id)
    head = session.get(ChainHead, village_id, populate_existing=True)
    if head is None:
        # Two first postings racing on PostgreSQL both insert; the loser fails on the
        # primary key and its transaction rolls back, so the chain cannot fork.
        head = ChainHead(village_id=village_id, seq=0, hash=GENESIS)
        session.add(head)
        session.flush()
    return head


def ensure_balance(session: Session, account: Account) -> None:
    """Create an account's balance row if it has none yet."""
    if session.get(Balance, account.id) is None:
        session.add(Balance(account_id=account.id, village_id=account.village_id))
        session.flush()


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
    """Append one entry on the village's chain and move the account's totals with it."""
    head = _lock_head(session, account.village_id)
    values: dict[str, Any] = {
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
    values["hash"] = entry_hash(values)
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


def reverse_entry(
    session: Session,
    *,
    actor: User,
    entry_id: int,
    reason: str,
    ip: str | None = None,
    now: datetime | None = None,
) -> LedgerEntry:
    """Reverse a posted entry with a reason: a new entry naming it; the old one stays."""
    now = now or utcnow()
    entry = session.get(LedgerEntry, entry_id)
    if entry is None:
        raise NotFound()
    require(session, actor, Permission.REVIEW, entry.village_id)
    check_recusal(actor.household_id, entry.household_id)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(N_("A reason is required to reverse an entry."))
    if entry.kind == EntryKind.REVERSAL:
        raise InvalidState(N_("A reversal cannot itself be reversed; record a new claim."))
    lock_row(session, "chain_head", "village_id", entry.village_id)
    if session.scalar(select(LedgerEntry.id).where(LedgerEntry.reverses_id == entry.id)):
        raise AlreadyReversed()
    account = session.get(Account, entry.account_id)
    assert account is not None
    reversal = append_entry(
        session,
        account,
        kind=EntryKind.REVERSAL,
        points=-entry.points,
        score_delta=-entry.score_delta,
        balance_delta=-entry.balance_delta,
        deed_date=entry.deed_date,
        now=now,
        member_id=entry.member_id,
        category=entry.category,
        title=entry.title,
        reason=reason,
        reverses_id=entry.id,
        rule_version_id=entry.rule_version_id,
        recorded_by_id=actor.id,
        approved_by_id=actor.id,
    )
    audit.log(
        session,
        "entry.reverse",
        actor=actor,
        village_id=entry.village_id,
        obj=reversal,
        ip=ip,
        at=now,
        after={"reverses": entry.id, "points": reversal.points, "reason": reason},
    )
    session.commit()
    return reversal


@dataclass
class Problem:
    """One broken thing `verify` found."""

    village_code: str
    kind: str  # chain | head | balance | period
    message: str
    entry_id: int | None = None
    account_id: int | None = None


@dataclass
class Report:
    villages: int = 0
    entries: int = 0
    accounts: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _entry_values(entry: LedgerEntry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in HASHED_FIELDS}


def verify(session: Session, village_code: str | None = None) -> Report:
    """Check every chain link and every cached total against the entries."""
    report = Report()
    villages = session.scalars(
        select(Village)
        .order_by(Village.id)
        .where(*([Village.code == village_code] if village_code else []))
    ).all()
    if village_code and not villages:
        raise NotFound(N_("No village has the code %(code)s."), code=village_code)
    for village in villages:
        report.villages += 1
        _verify_chain(session, village, report)
        _verify_totals(session, village, report)
    return report


def _verify_chain(session: Session, village: Village, report: Report) -> None:
    prev_hash, expected_seq = GENESIS, 1
    entries = session.execute(
        select(LedgerEntry)
        .where(LedgerEntry.village_id == village.id)
        .order_by(LedgerEntry.seq)
        .execution_options(yield_per=2000)
    ).scalars()
    for entry in entries:
        report.entries += 1
        if entry.seq != expected_seq:
            report.problems.append(
                Problem(
                    village.code,
                    "chain",
                    f"entry {entry.id}: sequence {entry.seq}, expected "
                    f"{expected_seq} (entries missing before it)",
                    entry.id,
                )
            )
        if entry.prev_hash != prev_hash:
            report.problems.append(
                Problem(
                    village.code,
                    "chain",
                    f"entry {entry.id} (seq {entry.seq}): previous-hash "
                    "link broken (an earlier entry was changed or deleted)",
                    entry.id,
                )
            )
        if entry_hash(_entry_values(entry)) != entry.hash:
            report.problems.append(
                Problem(
                    village.code,
                    "chain",
                    f"entry {entry.id} (seq {entry.seq}): content does "
                    "not match its hash (the entry was edited)",
                    entry.id,
                )
            )
        prev_hash, expected_seq = entry.hash, entry.seq + 1
    head = session.get(ChainHead, village.id)
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
    if head_seq != expected_seq - 1 or head_hash != prev_hash:
        report.problems.append(
            Problem(
                village.code,
                "head",
                f"chain head says seq {head_seq} but the last entry is seq "
                f"{expected_seq - 1} (entries were deleted or the head was changed)",
            )
        )


def _verify_totals(session: Session, village: Village, report: Report) -> None:
    sums = {
        row.account_id: (row.score, row.balance)
        for row in session.execute(
            select(
                LedgerEntry.account_id,
                func.sum(LedgerEntry.score_delta).label("score"),
                func.sum(LedgerEntry.balance_delta).label("balance"),
            )
            .where(LedgerEntry.village_id == village.id)
            .group_by(LedgerEntry.account_id)
        )
    }
    cached = {
        b.account_id: (b.score, b.balance)
        for b in session.scalars(select(Balance).where(Balance.village_id == village.id))
    }
    for account_id in sorted(set(sums) | set(cached)):
        report.accounts += 1
        want, have = sums.get(account_id, (0, 0)), cached.get(account_id, (0, 0))
        if tuple(int(x or 0) for x in want) != have:
            report.problems.append(
                Problem(
                    village.code,
                    "balance",
                    f"account {account_id}: cached score/balance "
                    f"{have[0]}/{have[1]} but entries sum to {want[0]}/{want[1]}",
                    account_id=account_id,
                )
            )
    period_sums = {
        (r.account_id, r.period, r.category): int(r.score)
        for r in session.execute(
            select(
                LedgerEntry.account_id,
                LedgerEntry.period,
                LedgerEntry.category,
                func.sum(LedgerEntry.score_delta).label("score"),
            )
            .where(LedgerEntry.village_id == village.id)
            .group_by(LedgerEntry.account_id, LedgerEntry.period, LedgerEntry.category)
        )
    }
    period_cached = {
        (t.account_id, t.period, t.category): t.score
        for t in session.scalars(select(PeriodTotal).where(PeriodTotal.village_id == village.id))
    }
    for key in sorted(set(period_sums) | set(period_cached)):
        if period_sums.get(key, 0) != period_cached.get(key, 0):
            report.problems.append(
                Problem(
                    village.code,
                    "period",
                    f"account {key[0]} period {key[1]} {key[2]}: cached "
                    f"{period_cached.get(key, 0)} but entries sum to {period_sums.get(key, 0)}",
                    account_id=key[0],
                )
            )


def rebuild_balances(session: Session, village_code: str | None = None) -> int:
    """Recompute balances and period totals from the entries; return the rows corrected."""
    villages = session.scalars(
        select(Village).where(*([Village.code == village_code] if village_code else []))
    ).all()
    changed = 0
    for village in villages:
        lock_row(session, "chain_head", "village_id", village.id)
        report = Report()
        _verify_totals(session, village, report)
        if not report.problems:
            continue
        sums = {
            r.account_id: (int(r.score), int(r.balance))
            for r in session.execute(
                select(
                    LedgerEntry.account_id,
                    func.sum(LedgerEntry.score_delta).label("score"),
                    func.sum(LedgerEntry.balance_delta).label("balance"),
                )
                .where(LedgerEntry.village_id == village.id)
                .group_by(LedgerEntry.account_id)
            )
        }
        for balance in session.scalars(select(Balance).where(Balance.village_id == village.id)):
            score, bal = sums.pop(balance.account_id, (0, 0))
            if (balance.score, balance.balance) != (score, bal):
                balance.score, balance.balance = score, bal
                changed += 1
        for account_id, (score, bal) in sums.items():
            session.add(
                Balance(account_id=account_id, village_id=village.id, score=score, balance=bal)
            )
            changed += 1
        session.query(PeriodTotal).filter(PeriodTotal.village_id == village.id).delete()
        rows = session.execute(
            select(
                LedgerEntry.account_id,
                LedgerEntry.scheme_id,
                LedgerEntry.household_id,
                LedgerEntry.period,
                LedgerEntry.category,
                func.sum(LedgerEntry.score_delta).label("score"),
            )
            .where(LedgerEntry.village_id == village.id, LedgerEntry.score_delta != 0)
            .group_by(
                LedgerEntry.account_id,
                LedgerEntry.scheme_id,
                LedgerEntry.household_id,
                LedgerEntry.period,
                LedgerEntry.category,
            )
        )
        for r in rows:
            session.add(
                PeriodTotal(
                    village_id=village.id,
                    account_id=r.account_id,
                    scheme_id=r.scheme_id,
                    household_id=r.household_id,
                    period=r.period,
                    category=r.category,
                    score=int(r.score),
                )
            )
        changed += len(report.problems)
        audit.log(
            session,
            "ledger.rebuild",
            actor=None,
            village_id=village.id,
            after={"problems": len(report.problems)},
        )
    session.commit()
    return changed
