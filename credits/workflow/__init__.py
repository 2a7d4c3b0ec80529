"""The life of a claim: recording, review, notice and posting, and corrections.

Rooms: `recording` (one claim, its checks and caps), `batch` (one rule for many
households), `review` (approve, reject, withdraw), `posting` (`post_claim`, the one
function that turns a claim into a ledger entry; due claims; over-cap refusal) and
`corrections` (更正: a claim to reverse a posted entry). Every state change goes
through `credits.transitions.move`. The names below are the package's public face.
"""

from credits.workflow.batch import record_batch
from credits.workflow.corrections import (
    CorrectionPending,
    CorrectionTarget,
    correction_target,
    pending_corrections,
    propose_correction,
)
from credits.workflow.posting import due_claims, has_open_objection, post_claim, post_due
from credits.workflow.recording import (
    BATCH_KEY_PATTERN,
    MAX_BACKDATE_DAYS,
    MAX_BATCH,
    MAX_BATCH_KEY,
    MAX_KEY,
    MAX_NOTE,
    BatchRefused,
    ClaimInput,
    ensure_account,
    record_claim,
    used_points,
)
from credits.workflow.review import (
    approve_claim,
    approve_many,
    reject_claim,
    reject_many,
    withdraw_claim,
)

__all__ = [
    "BATCH_KEY_PATTERN",
    "MAX_BACKDATE_DAYS",
    "MAX_BATCH",
    "MAX_BATCH_KEY",
    "MAX_KEY",
    "MAX_NOTE",
    "BatchRefused",
    "ClaimInput",
    "CorrectionPending",
    "CorrectionTarget",
    "approve_claim",
    "approve_many",
    "correction_target",
    "due_claims",
    "ensure_account",
    "has_open_objection",
    "pending_corrections",
    "post_claim",
    "post_due",
    "propose_correction",
    "record_batch",
    "record_claim",
    "reject_claim",
    "reject_many",
    "used_points",
    "withdraw_claim",
]
