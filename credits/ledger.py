"""The append-only ledger: posting, reversal, the hash chain, verification and rebuild."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, aliased

from credits import audit
from credits.access import Permission, check_recusal, require
from credits.caps import cap_breach, cap_exceeded, period_of
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
    Rule,
    RuleVersion,
    User,
    Village,
)
from credits.shop.verify import verify_stock

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
    (CapExceeded otherwise; nothing is written).
    """
    head = _lock_head(session, account.village_id)
    if kind in (EntryKind.AWARD, EntryKind.DEDUCTION) and fields.get("claim_id") is not None:
        version_id = fields.get("rule_version_id")
        if version_id is not None:
            _check_posting_cap(session, account, version_id, points, deed_date)
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
    kind: str  # chain | head | balance | period | stock
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
        for message in verify_stock(session, village.id):
            report.problems.append(Problem(village.code, "stock", message))
    return report


def _seqs(first: int, last: int) -> str:
    return f"seq {first}" if first == last else f"seq {first} to {last}"


def _where(entry: LedgerEntry | None) -> str:
    return f"entry {entry.id} (seq {entry.seq})" if entry is not None else "the start"


def _verify_chain(session: Session, village: Village, report: Report) -> None:
    """Walk a village's entries in chain order and report every broken link."""

    def problem(kind: str, message: str, entry_id: int | None = None) -> None:
        report.problems.append(Problem(village.code, kind, message, entry_id))

    prev: LedgerEntry | None = None
    prev_hash, expected_seq = GENESIS, 1
    entries = session.execute(
        select(LedgerEntry)
        .where(LedgerEntry.village_id == village.id)
        .order_by(LedgerEntry.seq)
        # Read what the database holds now, not what this session remembers.
        .execution_options(yield_per=2000, populate_existing=True)
    ).scalars()
    for entry in entries:
        report.entries += 1
        if entry.seq > expected_seq:
            problem(
                "chain",
                f"{_seqs(expected_seq, entry.seq - 1)} missing between {_where(prev)} and "
                f"entry {entry.id} (seq {entry.seq}): entries were deleted",
                entry.id,
            )
        elif entry.seq < expected_seq:
            problem(
                "chain",
                f"entry {entry.id}: sequence {entry.seq}, expected {expected_seq} "
                "(the entry was renumbered)",
                entry.id,
            )
        if entry.prev_hash != prev_hash:
            problem(
                "chain",
                f"entry {entry.id} (seq {entry.seq}): the link to the previous entry is "
                "broken (an earlier entry was changed or deleted)",
                entry.id,
            )
        if entry_hash(_entry_values(entry)) != entry.hash:
            problem(
                "chain",
                f"entry {entry.id} (seq {entry.seq}): content does not match its hash "
                "(the entry was edited)",
                entry.id,
            )
        prev, prev_hash, expected_seq = entry, entry.hash, entry.seq + 1
    head = session.get(ChainHead, village.id, populate_existing=True)
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
    last_seq = expected_seq - 1
    last_id = prev.id if prev is not None else None
    if head_seq > last_seq:
        problem(
            "head",
            f"{_seqs(last_seq + 1, head_seq)} missing after {_where(prev)}: the chain head "
            f"says seq {head_seq} (the last entries were deleted)",
            last_id,
        )
    elif head_seq < last_seq:
        problem(
            "head",
            f"the chain head says seq {head_seq} but {_where(prev)} follows it "
            "(the head was changed or entries were added by hand)",
            last_id,
        )
    elif head_hash != prev_hash:
        problem(
            "head",
            f"{_where(prev)} does not match the chain head's hash (the last entry was "
            "rewritten or the head was changed)",
            last_id,
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
        for b in session.scalars(
            select(Balance)
            .where(Balance.village_id == village.id)
            .execution_options(populate_existing=True)
        )
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
        for t in session.scalars(
            select(PeriodTotal)
            .where(PeriodTotal.village_id == village.id)
            .execution_options(populate_existing=True)
        )
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
    """Recompute balances and period totals from the entries; return the rows corrected
    (each wrong, missing or extra balance or period total counts once)."""
    villages = session.scalars(
        select(Village).where(*([Village.code == village_code] if village_code else []))
    ).all()
    if village_code and not villages:
        raise NotFound(N_("No village has the code %(code)s."), code=village_code)
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
        for balance in session.scalars(
            select(Balance)
            .where(Balance.village_id == village.id)
            .execution_options(populate_existing=True)
        ):
            score, bal = sums.pop(balance.account_id, (0, 0))
            if (balance.score, balance.balance) != (score, bal):
                balance.score, balance.balance = score, bal
        for account_id, (score, bal) in sums.items():
            session.add(
                Balance(account_id=account_id, village_id=village.id, score=score, balance=bal)
            )
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
