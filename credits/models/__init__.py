"""The typed SQLAlchemy models of every noun of the domain."""

from credits.models.audit import AuditEvent
from credits.models.boards import (
    BoardTally,
    ClosedPeriod,
    ClosedStanding,
    KioskLink,
    RuleGroup,
    RuleGroupMember,
    SchemePolicy,
)
from credits.models.claim import Claim, ClaimKind, ClaimState, Objection, ObjectionState
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
from credits.models.shop import (
    BalanceMode,
    MoveKind,
    Redemption,
    RedemptionLine,
    RedemptionPayment,
    RedemptionState,
    ShopItem,
    ShopSettings,
    StockMove,
    StockSource,
)
from credits.models.staff_session import StaffSession
from credits.models.user import Role, User

__all__ = [
    "Account",
    "AuditEvent",
    "Balance",
    "BalanceMode",
    "BoardTally",
    "ChainHead",
    "Claim",
    "ClaimKind",
    "ClaimState",
    "ClosedPeriod",
    "ClosedStanding",
    "EntryKind",
    "Evidence",
    "Group",
    "Household",
    "KioskLink",
    "LedgerEntry",
    "Member",
    "MoveKind",
    "Objection",
    "ObjectionState",
    "PeriodTotal",
    "Redemption",
    "RedemptionLine",
    "RedemptionPayment",
    "RedemptionState",
    "Proposal",
    "ProposalState",
    "Region",
    "Role",
    "Rule",
    "RuleGroup",
    "RuleGroupMember",
    "RuleVersion",
    "Scheme",
    "StaffSession",
    "ShopItem",
    "ShopSettings",
    "StockMove",
    "StockSource",
    "SchemePolicy",
    "User",
    "Village",
    "VillagePeriod",
    "VillagePeriodHousehold",
    "VillagePeriodStat",
]

# The township aggregates follow every posting through a flush hook; importing the
# models must register it, or a script that posts would leave the aggregates behind.
from credits.oversight import aggregates as _aggregates  # noqa: E402,F401
