"""Every exception that crosses a module, in one place: what a rule refused, what a write found changed, what
the outside world failed to do. The API maps them to HTTP in one place (`points_core.api.resolver`)."""

from __future__ import annotations

from enum import StrEnum

from points_core.domain.codes import Status


class RuleFailure(Exception):
    """A rule refused the request: `status` is the Capillary code it answers."""

    def __init__(self, status: Status) -> None:
        super().__init__(status.message)
        self.status = status


class InvalidInput(Exception):
    """The request cannot be understood at all (request-level 400)."""


class UnsupportedMediaType(Exception):
    """The request body is in a media type that is neither JSON nor XML (request-level 415)."""


class MalformedIdentifier(ValueError):
    """The request names no usable identifier, or names one that cannot be valid (802)."""


class InsufficientPoints(ValueError):
    """A debit asked for more than the wallet's live allocations hold."""


class UnknownTimeZone(ValueError):
    """An org's zone is unknown here and its configuration carries no compiled rules for it."""


class Refusal(StrEnum):
    """Why a transaction item's condition refused it (by the item's position in the transaction)."""

    WALLET_CHANGED = "wallet changed"
    ID_TAKEN = "redemption id taken"
    DUPLICATE_REFERENCE = "reference already used"
    CODE_CHANGED = "validation code no longer valid"
    REDEMPTION_CHANGED = "redemption reversed meanwhile"
    ALREADY_RECORDED = "entry already recorded"
    CONFLICT = "another transaction on the same items"


class NotRecorded(Exception):
    """A transaction was cancelled: nothing was written. `refusals` says which conditions refused."""

    def __init__(self, refusals: set[Refusal]) -> None:
        super().__init__(", ".join(sorted(refusals)))
        self.refusals = refusals


class GaveUp(Exception):
    """Every attempt was refused: others keep changing the same items (521)."""


class SendLimitReached(Exception):
    """The customer was sent as many validation codes as the window allows."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"send limit reached, retry after {retry_after} s")
        self.retry_after = retry_after


class CodeChanged(Exception):
    """The validation-code state kept changing under concurrent requests."""


class DeliveryFailed(Exception):
    """No channel delivered the validation code."""


class SecretUnavailable(RuntimeError):
    """The validation-code secret is missing or too short."""


class UnprocessedItemsError(RuntimeError):
    """DynamoDB kept refusing part of a batch (sustained throttling)."""


class Unauthenticated(Exception):
    """Missing, malformed or wrong till credentials. The reason is for metrics, never for the caller."""


class MissingAuthorizerContext(Exception):
    """The request reached a function without an authorizer context (it did not come through the gateway)."""
