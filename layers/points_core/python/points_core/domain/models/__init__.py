"""Domain models: org configuration, customers, wallets and their point allocations."""

from points_core.domain.models.caller import Caller
from points_core.domain.models.config import (
    OrgConfig,
    OtpSettings,
    Program,
    ProgramGroup,
    RedemptionRules,
    Store,
    TillLogin,
)
from points_core.domain.models.customer import (
    Allocation,
    Bucket,
    Contact,
    CustomerProfile,
    Enrolment,
    Page,
    PagesNeeded,
    Wallet,
)
from points_core.domain.models.group import MAX_GROUP_MEMBERS, UserGroup
from points_core.domain.models.ledger import AwardEntry, EntryKind
from points_core.domain.models.oauth import OAuthClient
from points_core.domain.models.redemption import (
    BillEntry,
    CustomField,
    Draw,
    Redemption,
    UsedReference,
    new_record_id,
)
from points_core.domain.models.reversal import Credit, Reversal, ReversalRecord, ReversalSource

__all__ = [
    "MAX_GROUP_MEMBERS",
    "Allocation",
    "AwardEntry",
    "BillEntry",
    "Bucket",
    "Caller",
    "Contact",
    "Credit",
    "CustomField",
    "CustomerProfile",
    "Draw",
    "Enrolment",
    "EntryKind",
    "OAuthClient",
    "OrgConfig",
    "OtpSettings",
    "Page",
    "PagesNeeded",
    "Program",
    "ProgramGroup",
    "Redemption",
    "RedemptionRules",
    "Reversal",
    "ReversalRecord",
    "ReversalSource",
    "Store",
    "TillLogin",
    "UsedReference",
    "UserGroup",
    "Wallet",
    "new_record_id",
]
