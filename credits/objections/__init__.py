"""Objections (异议) to claims on notice: raising, deciding, reopening, and who sees what.

The rules that keep objections from being abused:
- one open objection per claim per objector (normalised name + contact);
- once the committee has dismissed an objection to a claim, no new objection holds that
  claim again; only a reviewer may reopen the decision, with a reason;
- every decision is a compare-and-set on the objection (`... WHERE state = 'open'`) and,
  for an upheld one, on the claim (`credits.transitions.move`): of two reviewers deciding
  at once one wins and the other is told;
- one connection may send only a few objections a day (its address comes from the
  trusted proxy, see `TRUSTED_PROXIES`);
- the objector's name and contact are shown to reviewers only (`board.may_see_objector`);
  the outcome of each decision is public, with the committee's reason, never the name.
"""

from credits.objections.board import (
    OBJECTOR_ACTIONS,
    AuditLine,
    DecidedItem,
    ObjectionView,
    Outcome,
    audit_line,
    decided_objections,
    household_outcomes,
    may_see_objector,
    objection_views,
    open_objections,
    outcomes_of,
    recent_outcomes,
)
from credits.objections.deciding import ObjectionMoved, reopen_objection, resolve_objection
from credits.objections.raising import (
    MAX_CONTACT,
    MAX_NAME,
    MAX_OBJECTIONS_PER_IP_CLAIM_DAY,
    MAX_OBJECTIONS_PER_IP_DAY,
    MAX_REASON,
    AlreadyDecided,
    AlreadyObjecting,
    TooManyObjections,
    check_on_notice,
    check_open_to_objections,
    objector_key,
    raise_objection,
    record_paper_objection,
)

__all__ = [
    "OBJECTOR_ACTIONS",
    "AuditLine",
    "audit_line",
    "MAX_CONTACT",
    "MAX_NAME",
    "MAX_OBJECTIONS_PER_IP_CLAIM_DAY",
    "MAX_OBJECTIONS_PER_IP_DAY",
    "MAX_REASON",
    "AlreadyDecided",
    "AlreadyObjecting",
    "DecidedItem",
    "ObjectionMoved",
    "ObjectionView",
    "Outcome",
    "TooManyObjections",
    "check_on_notice",
    "check_open_to_objections",
    "decided_objections",
    "household_outcomes",
    "may_see_objector",
    "objection_views",
    "objector_key",
    "open_objections",
    "outcomes_of",
    "raise_objection",
    "recent_outcomes",
    "record_paper_objection",
    "reopen_objection",
    "resolve_objection",
]
