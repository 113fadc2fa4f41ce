"""The AWS side of the tool: one botocore session from the global options, and the layer's repositories over
the tables they name. Nothing is resolved or called before a command asks for it, so `apply-config` needs no
customer tables and a validation error needs no AWS at all."""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum
from functools import cache, cached_property
from typing import Any, Literal

import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoRegionError

from points_admin.api_keys import TillKeys
from points_admin.errors import CommandError
from points_core.repositories import ConfigRepository, CustomerRepository, GroupRepository, LoginRepository
from points_local import LOCAL_AWS_PORT, LOCAL_REGION

# Longer read timeout than the functions': an operator on a slow link would rather wait than start over.
_CLIENT_CONFIG = Config(
    connect_timeout=5, read_timeout=30, retries={"mode": "standard", "max_attempts": 3}, tcp_keepalive=True
)


@cache
def _api_models() -> Any:
    """botocore's loader of the AWS API models. Shared so that they are parsed once per process rather than
    once per command: the local stack and the tests run many commands in one process."""
    return botocore.session.get_session().get_component("data_loader")


class Table(StrEnum):
    CONFIG = "config"
    CUSTOMERS = "customers"
    LEDGER = "ledger"

    @property
    def option(self) -> str:
        return f"--{self.value}-table"

    @property
    def environment(self) -> str:
        """The variable template.yaml's Globals give the functions, so a shell set up for one serves both."""
        return f"{self.value.upper()}_TABLE"

    @property
    def local_name(self) -> str:
        """Its name in the local stack: the template's logical id."""
        return f"{self.value.capitalize()}Table"

    @property
    def stack_output(self) -> str:
        """template.yaml outputs each table's name as `<logical id>Name`."""
        return f"{self.local_name}Name"


LOCAL_AWS_URL = f"http://127.0.0.1:{LOCAL_AWS_PORT}"
"""Where `make run` serves its embedded AWS."""
LOCAL_USAGE_PLAN = "PointsApiUsagePlan"
"""The name of the usage plan in the local stack: the template's logical id (SAM's, for PointsApi's)."""
USAGE_PLAN_OUTPUT = "UsagePlanId"
USAGE_PLAN_ENVIRONMENT = "USAGE_PLAN_ID"


@dataclass(frozen=True, slots=True)
class AwsOptions:
    endpoint_url: str | None = None
    region: str | None = None
    profile: str | None = None
    stack_name: str | None = None
    tables: dict[Table, str] | None = None
    """Table names given on the command line; they win over the stack's outputs and the environment."""
    local: bool = False
    """The local stack: its table names, its region, and any credentials (it checks none)."""
    usage_plan_id: str | None = None
    """The usage plan of the tills' API keys given on the command line; it wins, as a table name does."""


class Backend:
    def __init__(self, options: AwsOptions) -> None:
        self._options = options

    @cached_property
    def _session(self) -> botocore.session.Session:
        session = botocore.session.Session(profile=self._options.profile)
        session.register_component("data_loader", _api_models())
        if self._options.local and session.get_credentials() is None:
            session.set_credentials("local", "local")
        return session

    def _client(self, service: Literal["dynamodb", "cloudformation", "apigateway"]) -> Any:
        # botocore reads AWS_DEFAULT_REGION and the profile; AWS_REGION (what Lambda and SAM set) comes last.
        region = (
            self._options.region
            or (LOCAL_REGION if self._options.local else None)
            or self._session.get_config_variable("region")
            or os.environ.get("AWS_REGION")
        )
        try:
            return self._session.create_client(
                service, region_name=region, endpoint_url=self._options.endpoint_url, config=_CLIENT_CONFIG
            )
        except NoRegionError as error:
            raise CommandError(f"{error} (--region, AWS_REGION, or the profile's region)") from error
        except BotoCoreError as error:
            raise CommandError(str(error)) from error

    @cached_property
    def _dynamodb(self) -> Any:
        return self._client("dynamodb")

    @cached_property
    def _stack_outputs(self) -> dict[str, str]:
        name = self._options.stack_name
        if name is None:
            return {}
        try:
            stacks = self._client("cloudformation").describe_stacks(StackName=name)["Stacks"]
        except ClientError as error:
            raise CommandError(f"stack {name}: {error.response['Error']['Message']}") from error
        return {output["OutputKey"]: output["OutputValue"] for output in stacks[0].get("Outputs", [])}

    def table(self, table: Table) -> str:
        """The table's name, checked to exist so that a wrong name fails before any work is done."""
        name = (self._options.tables or {}).get(table) or (table.local_name if self._options.local else None)
        if name is None and self._options.stack_name is not None:
            name = self._stack_outputs.get(table.stack_output)
            if name is None:
                raise CommandError(f"stack {self._options.stack_name} has no output {table.stack_output}")
        name = name or os.environ.get(table.environment)
        if not name:
            raise CommandError(
                f"no {table.value} table: give {table.option}, set {table.environment} or use --stack-name"
            )
        try:
            self._dynamodb.describe_table(TableName=name)
        except ClientError as error:
            if error.response["Error"]["Code"] == "ResourceNotFoundException":
                raise CommandError(f"{table.value} table {name} does not exist") from error
            raise
        return name

    def _usage_plan_id(self) -> str:
        if self._options.usage_plan_id:
            return self._options.usage_plan_id
        if self._options.local:
            plans = self._client("apigateway").get_usage_plans(limit=500).get("items", [])
            found = [plan["id"] for plan in plans if plan.get("name") == LOCAL_USAGE_PLAN]
            if not found:
                raise CommandError(f"the local stack has no usage plan {LOCAL_USAGE_PLAN}")
            return str(found[0])
        if self._options.stack_name is not None:
            plan_id = self._stack_outputs.get(USAGE_PLAN_OUTPUT)
            if plan_id is None:
                raise CommandError(f"stack {self._options.stack_name} has no output {USAGE_PLAN_OUTPUT}")
            return plan_id
        plan_id = os.environ.get(USAGE_PLAN_ENVIRONMENT)
        if not plan_id:
            raise CommandError(
                "no usage plan for the tills' API keys: give --usage-plan-id, set "
                f"{USAGE_PLAN_ENVIRONMENT} or use --stack-name"
            )
        return plan_id

    @cached_property
    def till_keys(self) -> TillKeys:
        """The tills' API keys in the stack's usage plan, checked to exist so a wrong id fails before any
        write. Only apply-config needs it, and only for an org with tills."""
        plan_id = self._usage_plan_id()
        client = self._client("apigateway")
        try:
            client.get_usage_plan(usagePlanId=plan_id)
        except ClientError as error:
            if error.response["Error"]["Code"] == "NotFoundException":
                raise CommandError(f"usage plan {plan_id} does not exist") from error
            raise
        return TillKeys(client, plan_id)

    @cached_property
    def config(self) -> ConfigRepository:
        # No caching: every command reads the configuration once, and apply-config must see its own write.
        return ConfigRepository(self._dynamodb, self.table(Table.CONFIG), cache_seconds=0)

    @cached_property
    def logins(self) -> LoginRepository:
        """Till logins and OAuth clients, in the Config table."""
        return LoginRepository(self._dynamodb, self.table(Table.CONFIG))

    @cached_property
    def customers(self) -> CustomerRepository:
        return CustomerRepository(self._dynamodb, self.table(Table.CUSTOMERS), self.table(Table.LEDGER))

    @cached_property
    def groups(self) -> GroupRepository:
        """UserGroup2 groups, in the Customers table."""
        return GroupRepository(self._dynamodb, self.table(Table.CUSTOMERS))
