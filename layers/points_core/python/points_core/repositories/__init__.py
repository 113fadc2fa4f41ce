"""All DynamoDB access. Repositories are built once per container, on first use."""

from __future__ import annotations

from functools import cache

from points_core.aws.clients import dynamodb_client
from points_core.aws.settings import get_settings
from points_core.repositories.config import ConfigRepository
from points_core.repositories.customers import CustomerRepository, CustomerUpsert
from points_core.repositories.groups import GroupRepository
from points_core.repositories.logins import LoginRepository
from points_core.repositories.otp import OtpRepository
from points_core.repositories.redemptions import RedemptionRepository
from points_core.repositories.reversals import ReversalRepository

__all__ = [
    "ConfigRepository",
    "CustomerRepository",
    "CustomerUpsert",
    "GroupRepository",
    "LoginRepository",
    "OtpRepository",
    "RedemptionRepository",
    "ReversalRepository",
    "config_repository",
    "customer_repository",
    "group_repository",
    "login_repository",
    "otp_repository",
    "redemption_repository",
    "reversal_repository",
]


@cache
def config_repository() -> ConfigRepository:
    settings = get_settings()
    return ConfigRepository(
        dynamodb_client(), settings.config_table, cache_seconds=settings.config_cache_seconds
    )


@cache
def login_repository() -> LoginRepository:
    return LoginRepository(dynamodb_client(), get_settings().config_table)


@cache
def customer_repository() -> CustomerRepository:
    settings = get_settings()
    return CustomerRepository(
        dynamodb_client(),
        settings.customers_table,
        settings.ledger_table,
        redemptions_table=settings.redemptions_table,
    )


@cache
def redemption_repository() -> RedemptionRepository:
    settings = get_settings()
    return RedemptionRepository(
        dynamodb_client(),
        redemptions=settings.redemptions_table,
        customers=settings.customers_table,
        ledger=settings.ledger_table,
        otp=settings.otp_table,
    )


@cache
def reversal_repository() -> ReversalRepository:
    settings = get_settings()
    return ReversalRepository(
        dynamodb_client(),
        redemptions=settings.redemptions_table,
        customers=settings.customers_table,
        ledger=settings.ledger_table,
    )


@cache
def otp_repository() -> OtpRepository:
    return OtpRepository(dynamodb_client(), get_settings().otp_table)


@cache
def group_repository() -> GroupRepository:
    return GroupRepository(dynamodb_client(), get_settings().customers_table)
