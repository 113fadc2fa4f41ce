"""UserGroup2 groups (a family, a fleet): members who redeem from their pooled points."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_GROUP_MEMBERS = 50
"""The most members a group may have: one redemption reads every member's profile and wallet, two keys each,
in one BatchGetItem (100 keys)."""

MAX_GROUP_ID = 2**31 - 1
"""Capillary's `user_group2_id` is an int32."""

GroupId = Annotated[str, Field(pattern=r"^[1-9][0-9]{0,9}$")]
CustomerId = Annotated[str, Field(pattern=r"^[0-9]{1,19}$")]


class UserGroup(BaseModel):
    """A group as a redemption reads it (its header and its member items, one Query)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    group_id: GroupId
    external_id: Annotated[str, Field(max_length=128)] = ""
    primary_customer_id: CustomerId
    member_ids: tuple[CustomerId, ...]
    """Every member, the primary one included, by customer id (as numbers, ascending)."""
    cross_member_redemption: bool = True
    """Whether a redemption draws from every member's points (earliest expiry first across them); when not,
    a member redeeming for the group draws from their own points only."""
    redemption_program_ids: tuple[Annotated[int, Field(gt=0)], ...] = ()
    """The programs the group may redeem in: none is a group without a redemption config (828)."""

    @model_validator(mode="after")
    def _primary_is_a_member(self) -> UserGroup:
        if self.primary_customer_id not in self.member_ids:
            raise ValueError("the primary member is not one of the members")
        if len(self.member_ids) > MAX_GROUP_MEMBERS:
            raise ValueError(f"a group has at most {MAX_GROUP_MEMBERS} members")
        return self

    def redeems_in(self, program_id: int) -> bool:
        return program_id in self.redemption_program_ids


@dataclass(frozen=True, slots=True)
class GroupRequest:
    """The group parameters of isredeemable and redeem, as given (blank is absent)."""

    group_redemption: bool = False
    group_id: str = ""
    external_id: str = ""
    primary_user_id: str = ""
    primary_identifier_type: str = ""
    primary_identifier_value: str = ""
    primary_source: str = ""
    primary_account_id: str = ""
    use_default: bool = False

    @property
    def names_user_group(self) -> bool:
        return self.use_default or self.names_group_itself

    @property
    def names_group_itself(self) -> bool:
        """Named without the customer's help: then the group's primary member redeems when no customer is."""
        return any(
            value.strip()
            for value in (
                self.group_id,
                self.external_id,
                self.primary_user_id,
                self.primary_identifier_type,
                self.primary_identifier_value,
            )
        )

    @property
    def is_group(self) -> bool:
        return self.group_redemption or self.names_user_group


NO_GROUP = GroupRequest()
