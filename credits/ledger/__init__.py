"""The append-only ledger: the hash chain, posting, verification, rebuild and anchors.

Rooms: `chain` (what a hash covers, the head, `append_entry`), `reversal`, `verify`
(with `crosscheck` and `totals`), `rebuild`, `headcheck` (codes printed on paper),
`checkpoints` (signed heads in a log outside the database) and `witness` (copies of
another installation's checkpoints).
"""

from credits.ledger.chain import (
    GENESIS,
    HASHED_FIELDS,
    REFERENCED_FIELDS,
    _lock_head,
    append_entry,
    ensure_balance,
    entry_hash,
    format_head,
    hash_of,
    head_code,
    posted_rule_points,
    referenced_values,
    refs_of,
    short_code,
)
from credits.ledger.headcheck import HeadCheck, check_head, parse_head
from credits.ledger.rebuild import rebuild_balances
from credits.ledger.report import Problem, Report
from credits.ledger.verify import verify, verify_chain

lock_head = _lock_head

__all__ = [
    "GENESIS",
    "HASHED_FIELDS",
    "REFERENCED_FIELDS",
    "HeadCheck",
    "Problem",
    "Report",
    "append_entry",
    "check_head",
    "ensure_balance",
    "entry_hash",
    "format_head",
    "hash_of",
    "head_code",
    "lock_head",
    "parse_head",
    "posted_rule_points",
    "rebuild_balances",
    "referenced_values",
    "refs_of",
    "short_code",
    "verify",
    "verify_chain",
]
