"""The schema of a data map (`charter.datamap/v1`): where a controller keeps each piece of personal data.

Systems hold datasets (one database, Redis, webhook host or manual store each, with its connection, region and
retention rule); datasets hold collections (tables, Redis key patterns, webhook endpoints); collections hold
fields, each with the policy's data categories it carries, the identity it is (email, phone, account id…), the
references that lead from one collection to another, and how erasure treats it. `docs/datamap.md` explains it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from charter.connectors.base import FieldType, Granularity, RedisType, StoreKind, Strategy
from charter.core.secrets import SECRET_NAME
from charter.core.yamldoc import Mistake
from charter.policy.schema import CategoryId, LocalText, Region, Slug
from charter.subjects.normalise import IdentityKind

__all__ = [
    "SCHEMA_ID",
    "Collection",
    "Connection",
    "DataField",
    "DataMap",
    "Dataset",
    "Direction",
    "Erasure",
    "Reference",
    "RetentionRule",
    "SecretRef",
    "System",
]

SCHEMA_ID = "charter.datamap/v1"

_NAME = r"^[A-Za-z_][A-Za-z0-9_$-]{0,62}$"
_FIELD_REF = r"^[A-Za-z_][A-Za-z0-9_$-]*(\.[A-Za-z_][A-Za-z0-9_$-]*){1,2}$"

Name = Annotated[str, Field(pattern=_NAME, description="A table, column, collection or field name as stored")]
FieldRef = Annotated[str, Field(pattern=_FIELD_REF, description="`collection.field` or `dataset.collection.field`")]
SecretName = Annotated[str, Field(pattern=SECRET_NAME)]
MaskValue = str | int | float | bool | dt.datetime | dt.date | None


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Direction(StrEnum):
    """Which way a reference is followed, in Fides' words.

    `from`: this collection's rows are found from the referenced field's values (a child pointing at its owner:
    `orders.customer_id` → `customer.id`). `to`: the referenced collection's rows are found from this field's
    values (`customer.address_id` → `address.id`).
    """

    FROM = "from"
    TO = "to"


class SecretRef(_Model):
    secret: SecretName


class Connection(_Model):
    secret: SecretName | None = Field(
        default=None, description="SQL and Redis: the secret holding the URL; webhook: the signing key")
    url: str | None = Field(default=None, description="Webhook only: the host's base URL (no credentials)")


class RetentionRule(_Model):
    id: Slug
    days: int | None = Field(default=None, ge=1, description="Kept this many days after collection")
    while_: Literal["account_active", "purpose_active"] | None = Field(default=None, alias="while")
    after_days: int | None = Field(default=None, ge=0, description="Kept this long after `while` ends")
    purpose: Slug | None = Field(default=None, description="The policy purpose whose retention this follows")
    reason: LocalText


class Reference(_Model):
    field: FieldRef
    direction: Direction = Direction.FROM


class Erasure(_Model):
    strategy: Strategy
    value: MaskValue = Field(default=None, description="`mask`: the fixed value written instead")
    to: Granularity | None = Field(default=None, description="`generalise` a date: to its year or month")
    keep_chars: int | None = Field(default=None, ge=0, description="`generalise` text: keep this many characters")
    round_to: int | None = Field(default=None, ge=1, description="`generalise` a number: down to a multiple of this")
    rule: Slug | None = Field(default=None, description="`keep`: the retention rule that locks the field")


def _erasure_shorthand(value: Any) -> Any:
    """`erasure: nullify` is short for `erasure: {strategy: nullify}`; a bare YAML `null` is a trap."""
    if value is None:
        raise Mistake("`erasure: null` is YAML for 'no value', not the nullify strategy",
                      "write `erasure: nullify` to set the field to NULL, or remove the line")
    return {"strategy": value} if isinstance(value, str) else value


ErasureOption = Annotated[Erasure | None, BeforeValidator(_erasure_shorthand)]


class DataField(_Model):
    name: Name
    description: str | None = None
    type: FieldType | None = None
    length: int | None = Field(default=None, ge=1, description="Longest text the column holds")
    nullable: bool = True
    primary_key: bool = False
    categories: list[CategoryId] = Field(default_factory=list)
    identity: IdentityKind | None = None
    references: list[Reference] = Field(default_factory=list)
    erasure: ErasureOption = None

    @field_validator("references", mode="before")
    @classmethod
    def _reference_shorthand(cls, value: Any) -> Any:
        """`references: customer.id` is short for `references: [{field: customer.id}]`."""
        if isinstance(value, str | dict):
            value = [value]
        if isinstance(value, list):
            return [{"field": item} if isinstance(item, str) else item for item in value]
        return value


class Collection(_Model):
    name: Name
    description: str | None = None
    table: Name | None = Field(default=None, description="SQL: the table, when it differs from `name`")
    db_schema: Name | None = Field(default=None, description="SQL: the schema (PostgreSQL) the table is in")
    key: str | None = Field(default=None, description="Redis: the key pattern, e.g. `session:{account_id}`")
    redis_type: RedisType | None = None
    endpoint: str | None = Field(default=None, description="Webhook: the path under the dataset's URL")
    instructions: LocalText | None = Field(default=None, description="Manual: what staff must do")
    erasure: ErasureOption = Field(
        default=None, description="Default for fields holding a category without an `erasure:` of their own")
    collected_at: Name | None = Field(
        default=None, description="The date/datetime field saying when the row was collected: a `days:` retention "
                                  "rule counts from it, and an incident's time window filters by it")
    ended_at: Name | None = Field(
        default=None, description="The date/datetime field saying when the account or purpose the row serves ended "
                                  "(NULL while it lasts): a `while:` retention rule counts from it")
    fields: list[DataField] = Field(min_length=1)

    def field(self, name: str) -> DataField | None:
        return next((f for f in self.fields if f.name == name), None)


class Dataset(_Model):
    id: Slug
    kind: StoreKind
    description: str | None = None
    connection: Connection | None = None
    hash_key: SecretRef | None = Field(default=None, description="The HMAC key for fields erased with `hash`")
    region: Region
    retention: Slug = Field(description="The id of a retention rule under `retention_rules:`")
    instructions: LocalText | None = Field(default=None, description="Manual: what staff must do")
    collections: list[Collection] = Field(min_length=1)

    def collection(self, name: str) -> Collection | None:
        return next((c for c in self.collections if c.name == name), None)


class System(_Model):
    id: Slug
    name: str = Field(min_length=1)
    description: str | None = None
    datasets: list[Dataset] = Field(min_length=1)


class DataMap(_Model):
    schema_: Literal["charter.datamap/v1"] = Field(alias="schema")
    controller: Slug | None = Field(default=None, description="The controller this map is for, checked on publish")
    version: str = Field(min_length=1, max_length=64)
    description: str | None = None
    retention_rules: list[RetentionRule] = Field(min_length=1)
    systems: list[System] = Field(min_length=1)

    def datasets(self) -> Iterator[tuple[System, Dataset]]:
        for system in self.systems:
            for dataset in system.datasets:
                yield system, dataset

    def dataset(self, dataset_id: str) -> Dataset | None:
        return next((d for _s, d in self.datasets() if d.id == dataset_id), None)

    def retention_rule(self, rule_id: str) -> RetentionRule | None:
        return next((r for r in self.retention_rules if r.id == rule_id), None)
