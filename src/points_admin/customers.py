"""`import-customers FILE --org ORG_ID`: customers and their identifiers from a CSV file with a header.

Columns (any order; only `customer_id` must be present, a missing optional column reads as empty; an
unknown column stops the import before any row is read):

    customer_id          required: the customer's id in the org, digits (leading zeros dropped)
    mobile               mobile number; without a country code the org's `country_code` is prefixed
    email                email address (stored lowercase)
    external_id          the customer's id in another system
    card_number          loyalty card number
    card_external_id     the card's id in another system
    first_name           free text
    last_name            free text
    enrolment            loyalty (default), campaign or unregistered
    fraud_status         empty, or one of Marked, Confirmed, Reconfirmed, Not_Fraud, Internal
    lifetime_purchases   decimal, 0 or more (default 0), at most 4 decimal places, in the base currency

A row needs at least one identifier besides `customer_id`. The file is the customer's whole profile: a
re-import with an identifier left empty takes that identifier away from the customer. A `customer_id`, or an
identifier, that an earlier valid row of the file already has is rejected, as is an identifier that belongs
to another customer of the org already.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from points_admin import values
from points_admin.csv_import import Outcome, Rejected, Row, RowError
from points_core.aws.observability import mask_identifier
from points_core.domain.identifiers import Identifier, IdentifierType, normalize
from points_core.domain.models import CustomerProfile, Enrolment, OrgConfig
from points_core.domain.models.config import FRAUD_STATUSES
from points_core.repositories import CustomerRepository
from points_core.services.loading import load_customers

IDENTIFIER_TYPES = tuple(t for t in IdentifierType if t is not IdentifierType.ID)
COLUMNS = (
    "customer_id",
    *(t.value for t in IDENTIFIER_TYPES),
    "first_name",
    "last_name",
    "enrolment",
    "fraud_status",
    "lifetime_purchases",
)
_FRAUD_STATUSES = {status.lower(): status for status in FRAUD_STATUSES}


class CustomerRows:
    columns = COLUMNS
    required = frozenset({"customer_id"})

    def __init__(self, org: OrgConfig, customers: CustomerRepository) -> None:
        self._org = org
        self._customers = customers
        self._lines_by_customer: dict[str, int] = {}
        self._lines_by_identifier: dict[Identifier, int] = {}

    def _identifiers(self, row: Row) -> list[Identifier]:
        found: list[Identifier] = []
        for identifier_type in IDENTIFIER_TYPES:
            if not row.get(identifier_type.value):
                continue
            parse = partial(
                normalize,
                identifier_type,
                country_code=self._org.country_code,
                national_digits=self._org.mobile_national_digits,
            )
            found.append(Identifier(identifier_type, row.parsed(identifier_type.value, parse)))
        if not found:
            raise RowError(
                f"no identifier: give at least one of {', '.join(t.value for t in IDENTIFIER_TYPES)}"
            )
        return found

    def parse(self, row: Row) -> CustomerProfile:
        customer_id = row.parsed("customer_id", values.customer_id)
        identifiers = self._identifiers(row)
        try:
            enrolment = Enrolment(row.get("enrolment").lower() or Enrolment.LOYALTY)
        except ValueError:
            raise RowError(f"enrolment: one of {', '.join(Enrolment)}") from None
        fraud_status = row.get("fraud_status")
        if fraud_status and fraud_status.lower() not in _FRAUD_STATUSES:
            raise RowError(f"fraud_status: empty or one of {', '.join(sorted(FRAUD_STATUSES))}")
        purchases = row.parsed("lifetime_purchases", lambda text: values.money(text or "0"))

        earlier = self._lines_by_customer.get(customer_id)
        if earlier is not None:
            raise RowError(f"customer_id {customer_id} is already on line {earlier}")
        for identifier in identifiers:
            earlier = self._lines_by_identifier.get(identifier)
            if earlier is not None:
                masked = mask_identifier(identifier.type.value, identifier.value)
                raise RowError(f"{identifier.type.value} {masked} is already on line {earlier}")
        self._lines_by_customer[customer_id] = row.line
        self._lines_by_identifier.update(dict.fromkeys(identifiers, row.line))
        return CustomerProfile(
            customer_id=customer_id,
            **{identifier.type.value: identifier.value for identifier in identifiers},
            first_name=row.get("first_name"),
            last_name=row.get("last_name"),
            enrolment=enrolment,
            fraud_status=_FRAUD_STATUSES.get(fraud_status.lower(), ""),
            lifetime_purchases=purchases,
        )

    def write(self, batch: Sequence[tuple[Row, CustomerProfile]]) -> list[Outcome | Rejected]:
        result = load_customers(self._org.org_id, [profile for _, profile in batch], self._customers)
        outcomes: dict[str, Outcome | Rejected] = {
            **dict.fromkeys(result.created, Outcome.CREATED),
            **dict.fromkeys(result.updated, Outcome.UPDATED),
            **dict.fromkeys(result.unchanged, Outcome.UNCHANGED),
            **{customer_id: Rejected(reason) for customer_id, reason in result.rejected.items()},
        }
        return [outcomes[profile.customer_id] for _, profile in batch]
