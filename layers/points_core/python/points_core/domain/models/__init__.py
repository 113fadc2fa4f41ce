"""Domain models: org configuration, customers, wallets and their point allocations."""

from points_core.domain.models.caller import Caller
from points_core.domain.models.config import (
    OrgConfig,
    OtpSettings,
    Program,
    RedemptionRules,
    Store,
    TillLogin,
)
from points_core.domain.models.customer import (
    MAX_LIVE_ALLOCATIONS,
    Allocation,
    CustomerProfile,
    Enrolment,
    Wallet,
)
from points_core.domain.models.ledger import AwardEntry, EntryKind
from points_core.domain.models.redemption import CustomField, Draw, Redemption
from points_core.domain.models.reversal import Credit, Reversal, ReversalSource

__all__ = [
    "MAX_LIVE_ALLOCATIONS",
    "Allocation",
    "AwardEntry",
    "Caller",
    "Credit",
    "CustomField",
    "CustomerProfile",
    "Draw",
    "Enrolment",
    "EntryKind",
    "OrgConfig",
    "OtpSettings",
    "Program",
    "Redemption",
    "RedemptionRules",
    "Reversal",
    "ReversalSource",
    "Store",
    "TillLogin",
    "Wallet",
]
