"""The one catalogue of Capillary status codes and messages.

Messages are the ones Capillary emits where the reference records them, otherwise its near-verbatim short
messages. Codes are entity-scoped in Capillary (the same number can mean different things on different
pages), so they are grouped: request-level statuses, points item codes, v2 reversal codes, OTP API codes.
Nothing outside this module spells a message.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Status:
    code: int
    message: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a use case came to: the code it answers with, and whether it succeeded."""

    status: Status
    success: bool


class RequestStatus:
    """Request-level `status` of a v1.1 response (`response.status`)."""

    SUCCESS = Status(200, "Success")
    OPERATION_SUCCESSFUL = Status(200, "Operation Successful")
    SOME_FAILED = Status(201, "One or more requests have failed due to errors")
    ALL_FAILED = Status(500, "All requests have failed due to errors")
    INVALID_INPUT = Status(400, "Invalid input")
    UNAUTHORIZED = Status(401, "Unauthorized. Authentication failed")
    VERSION_NOT_SUPPORTED = Status(402, "Version not supported for this resource")
    ACCESS_DENIED = Status(403, "Not authorized. Access is denied!")
    INCORRECT_RESOURCE = Status(404, "Incorrect resource")
    INCORRECT_METHOD = Status(405, "Incorrect HTTP method")
    IDEMPOTENCY_KEY_IN_FLIGHT = Status(
        409, "A request with this Idempotency-Key is still in progress, retry later"
    )
    UNSUPPORTED_MEDIA_TYPE = Status(415, "Unsupported media type")
    IDEMPOTENCY_KEY_REUSED = Status(422, "Idempotency-Key was used with another request body")
    RATE_LIMITED = Status(429, "Rate limit exceeded")
    CUSTOMER_LOCKED = Status(521, "Multiple actions running for the same customer, please retry later")
    AUTHORIZATION_UNAVAILABLE = Status(503, "Authorization status is unavailable")


class Item:
    """Item-level codes of the points APIs (`item_status`)."""

    REDEEMABLE = Status(800, "Points can be redeemed")
    REDEEMED = Status(800, "Points Redeemed")
    VALIDATION_CODE_ISSUED_SMS = Status(200, "Validation Code Issued by SMS")
    VALIDATION_CODE_ISSUED_EMAIL = Status(200, "Validation Code Issued by Email")
    VALIDATION_CODE_ISSUED_SMS_AND_EMAIL = Status(200, "Validation Code Issued by SMS and Email")

    CAMPAIGN_CUSTOMER = Status(
        686, "User is from campaign and not enrolled in loyalty, points redemption is not applicable"
    )
    DUPLICATE_REFERENCE = Status(744, "Reference number already exists")
    INVALID_POINTS = Status(801, "Points you are trying to redeem are invalid")
    INVALID_IDENTIFIER = Status(802, "Mobile number/email id/external id you have entered is invalid")
    MORE_THAN_AVAILABLE = Status(803, "Points to redeem are more than the available points")
    INSUFFICIENT_CURRENT_POINTS = Status(804, "Insufficient current points")
    INSUFFICIENT_LIFETIME_POINTS = Status(805, "Insufficient lifetime points")
    INSUFFICIENT_LIFETIME_PURCHASES = Status(806, "Insufficient lifetime purchases amount")
    NOT_MULTIPLE = Status(807, "Redemptions points not divisible")
    INVALID_VALIDATION_CODE = Status(808, "Unable to redeem. Validation code is invalid")
    FRAUD_CUSTOMER = Status(809, "Customer is marked as fraud")
    REVERT_POINTS_MISMATCH = Status(810, "Mismatch in points for revert API call")
    INVALID_TRANSACTION_NUMBER = Status(
        811, "The transaction number entered to redeem/revert points is invalid"
    )
    ALREADY_REVERTED = Status(812, "The points have been reverted already for this transaction number")
    INSUFFICIENT_POINTS_AVAILABLE = Status(813, "Insufficient current points available for redemption")
    NOTHING_REDEEMED_ON_TRANSACTION = Status(814, "No points were redeemed on this transaction number")
    UNABLE_TO_PROCESS = Status(815, "Unable to process points at this moment")
    REVERSAL_TOO_LARGE = Status(
        815, "The reversal gives back to more wallets than one transaction may write: reverse it in parts"
    )
    CUSTOMER_NOT_FOUND = Status(816, "Customer not found for organization")
    REDEMPTION_FAILED = Status(817, "Points redemption failed")
    INSUFFICIENT_BALANCE = Status(818, "Current points are less than points requested for redemption")
    ABOVE_MAXIMUM = Status(819, "Points requested exceed the maximum points allowed per redemption")
    TOO_MANY_EXPIRY_DATES = Status(
        819, "Points requested span more expiry dates than one redemption may draw from: redeem them in parts"
    )
    TOO_MANY_MEMBERS = Status(
        819,
        "Points requested span more group members' points than one redemption may draw from (40): redeem "
        "them in parts",
    )
    FRAUD_CUSTOMER_ALT = Status(820, "Customer is marked as fraud")
    BELOW_MINIMUM = Status(821, "Points requested are less than the minimum points allowed for redemption")
    MISSED_CALL_NOT_FOUND = Status(822, "Unable to find missed call from the registered mobile number")
    MISSED_CALL_DISABLED = Status(823, "Missed call redemption is disabled for your organization")
    VALIDATION_MANDATORY = Status(824, "Mobile number validation is mandatory for redeeming points")
    CLIENT_SIGNATURE_REQUIRED = Status(825, "Client signature is required")
    INVALID_POINTS_CATEGORY = Status(826, "Invalid points category or invalid configuration")
    REDEMPTION_NOT_ENABLED = Status(
        827, "Unable to redeem points. Points redemption is not enabled for your organization"
    )
    GROUP_NOT_CONFIGURED = Status(828, "Points redemption is not configured for the group")
    INVALID_REDEMPTION_TIME = Status(859, "The redemption time you have passed is invalid")
    OTP_NOT_ISSUED = Status(860, "Unable to issue OTP")
    CONVERSION_RATIO_UNAVAILABLE = Status(872, "Unable to fetch points to currency conversion ratio")
    INVALID_TRANSACTION_WARNING = Status(873, "Invalid transaction number passed")
    OTP_GENERATION_FAILED = Status(874, "Unable to generate validation code (OTP)")
    OTP_GENERATION_FAILED_ALT = Status(875, "Unable to generate validation code (OTP)")
    REDEEMABLE_OTP_FAILED = Status(876, "Points Redeemable but OTP Generation failed")
    UNABLE_TO_ALLOCATE = Status(877, "Unable to allocate points")
    INVALID_DECIMAL_PRECISION = Status(
        878, "Invalid decimal precision, points can have at most 3 decimal places"
    )
    NOT_REGISTERED = Status(881, "Customer is not registered into the loyalty program")
    INVALID_PROGRAM_ID_REVERSAL = Status(885, "Invalid program ID")
    TEMPORARY_FAILURE = Status(886, "Unable to process points at this moment, please try again later")
    PARAMETER_VALIDATION_ERROR = Status(887, "Validation error in parameters")
    INVALID_CONFIGURATION = Status(888, "Configuration is invalid, please report to Capillary Support")
    PROCESSING_FAILED = Status(889, "Points processing failed, Please try again later")
    PROGRAM_NOT_CONFIGURED = Status(895, "Loyalty program is not configured for your organization")
    INVALID_PROGRAM_ID = Status(1101, "Invalid programId")
    INVALID_GROUP = Status(1632, "Invalid or non-existent groupId")
    FRAUD_STATUS_BLOCKED = Status(
        3045, "Points Redemption is not allowed for the customer as the status is fraud"
    )
    GROUP_REDEMPTION_MISMATCH = Status(
        3316, "Group redemption action executed from non-group redemption payload"
    )
    CUSTOMER_NOT_FOUND_V2 = Status(8015, "Customer not found for the given identifiers")


class Reversal:
    """Codes of `POST /v2/points/reverse` (v2 envelope, `errors[]`)."""

    MORE_THAN_REMAINING = Status(
        3801, "points to be reversed should not be greater than total points redeemed against the redemption"
    )
    ALREADY_REVERSED = Status(3802, "Points reversal redeemed points already reversed.")
    REDEMPTION_NOT_FOUND = Status(3803, "Redemption not found for the given redemption id and customer")
    REVERSAL_OF_REVERSAL = Status(3804, "Redemption reversal of a reversal is not allowed")
    REVERSAL_DISABLED = Status(4101, "Points redemption reversal is disabled for this org")
    INVALID_POINTS = Status(4102, "Points redemption reversal not allowed for invalid points")
    REVERSAL_DISABLED_WARNING = Status(905, "points redemption reversal is disabled for the org.")


class Otp:
    """Codes of Capillary's generic OTP API, shared with the points validation code where noted."""

    VALIDATED = Status(610, "OTP is validated successfully")
    RATE_LIMITED = Status(429, "Rate limit exceeded, too many validation codes requested, please retry later")
    INVALID_ACTION = Status(600, "Invalid or null action passed")
    INVALID_ENTITY_TYPE = Status(601, "Invalid or null entity_type passed")
    INVALID_ENTITY_VALUE = Status(602, "Invalid or null entity_value passed")
    INVALID_CHANNEL = Status(603, "Invalid or null communication channel value passed")
    NO_OTP = Status(604, "No OTP passed")
    INVALID_OTP = Status(605, "OTP is either invalid, expired, or null")
    UNABLE_TO_GENERATE = Status(606, "Unable to generate OTP at the moment")
    NO_VALID_OTP = Status(9001, "No valid OTP found")
