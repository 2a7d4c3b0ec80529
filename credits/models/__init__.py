"""The typed SQLAlchemy models of every noun of the domain."""

from credits.models.audit import AuditEvent
from credits.models.claim import Claim, ClaimState, Objection, ObjectionState
from credits.models.evidence import Evidence
from credits.models.household import Household, Member
from credits.models.ledger import Balance, ChainHead, EntryKind, LedgerEntry, PeriodTotal
from credits.models.oversight import (
    Proposal,
    ProposalState,
    VillagePeriod,
    VillagePeriodHousehold,
    VillagePeriodStat,
)
from credits.models.region import Group, Region, Village
from credits.models.scheme import Account, Rule, RuleVersion, Scheme
from credits.models.user import Role, User

__all__ = [
    "Account",
    "AuditEvent",
    "Balance",
    "ChainHead",
    "Claim",
    "ClaimState",
    "EntryKind",
    "Evidence",
    "Group",
    "Household",
    "LedgerEntry",
    "Member",
    "Objection",
    "ObjectionState",
    "PeriodTotal",
    "Proposal",
    "ProposalState",
    "Region",
    "Role",
    "Rule",
    "RuleVersion",
    "Scheme",
    "User",
    "Village",
    "VillagePeriod",
    "VillagePeriodHousehold",
    "VillagePeriodStat",
]

# The township aggregates follow every posting through a flush hook; importing the
# models must register it, or a script that posts would leave the aggregates behind.
from credits.oversight import aggregates as _aggregates  # noqa: E402,F401
