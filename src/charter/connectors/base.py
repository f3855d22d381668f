"""What every connector takes and gives: plain, serialisable descriptions of a collection and a lookup in, a
record of what was done out (counts and field names, never personal data, except the rows `retrieve` returns).

The planner (`charter.datamap.plan`) builds these from a data map; a request runner persists them with its tasks
(`model_dump(mode="json")` / `model_validate`) and hands them to a `Connector`.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from enum import StrEnum
from types import TracebackType
from typing import Any, Self

from pydantic import BaseModel, ConfigDict

from charter.core.errors import CharterError
from charter.core.i18n import Text

__all__ = [
    "CollectionSpec",
    "ConnectionSpec",
    "ConnectionTest",
    "Connector",
    "ConnectorError",
    "ErasureRecord",
    "ErasureSpec",
    "Expiry",
    "FieldSpec",
    "FieldType",
    "Granularity",
    "HeldField",
    "Lookup",
    "ManualAction",
    "MissingColumn",
    "MissingTable",
    "Operation",
    "RectifyRecord",
    "RedisType",
    "Retrieved",
    "Row",
    "Scalar",
    "Scan",
    "StoreKind",
    "Strategy",
]

Scalar = str | int | float | bool | dt.date | dt.datetime | None
Row = dict[str, Any]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StoreKind(StrEnum):
    POSTGRESQL = "postgresql"
    MYSQL = "mysql"
    """MySQL and MariaDB."""
    SQLITE = "sqlite"
    REDIS = "redis"
    WEBHOOK = "webhook"
    MANUAL = "manual"

    @property
    def is_sql(self) -> bool:
        return self in (StoreKind.POSTGRESQL, StoreKind.MYSQL, StoreKind.SQLITE)


class FieldType(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    JSON = "json"


class RedisType(StrEnum):
    STRING = "string"
    HASH = "hash"
    SET = "set"


class Strategy(StrEnum):
    """How erasure treats a field. `delete_row` removes the whole row (or Redis key) the field is in."""

    DELETE_ROW = "delete_row"
    NULLIFY = "nullify"
    MASK = "mask"
    HASH = "hash"
    GENERALISE = "generalise"
    KEEP = "keep"


class Granularity(StrEnum):
    """What a date or datetime is generalised to: the first day of its year or month."""

    YEAR = "year"
    MONTH = "month"


class Operation(StrEnum):
    RETRIEVE = "retrieve"
    ERASE = "erase"
    RECTIFY = "rectify"


class ErasureSpec(_Spec):
    """One field's erasure. Only the options of its strategy are set."""

    strategy: Strategy
    value: Scalar = None
    """`mask`: the fixed value written instead."""
    to: Granularity | None = None
    """`generalise` a date or datetime to the start of its year or month."""
    keep_chars: int | None = None
    """`generalise` a string: keep this many leading characters, the rest becomes `*`."""
    round_to: int | None = None
    """`generalise` a number: round down to a multiple of this."""
    rule: str | None = None
    """`keep`: the retention rule that locks the field."""


class FieldSpec(_Spec):
    name: str
    type: FieldType | None = None
    length: int | None = None
    is_primary_key: bool = False
    categories: tuple[str, ...] = ()
    erasure: ErasureSpec | None = None
    """None: erasure leaves the field as it is (it holds nothing personal, or it is a primary key)."""
    identity: str | None = None
    """The kind of identity the field holds (`email`, `phone`…): a value written to it is normalised as
    Charter normalises that kind, so the person is still found by it."""


class CollectionSpec(_Spec):
    """One table, Redis key pattern, webhook endpoint or manual store, as its connector needs it."""

    dataset: str
    name: str
    table: str | None = None
    db_schema: str | None = None
    key: str | None = None
    """Redis: the key pattern, with one `{field}` placeholder and optionally `*`."""
    redis_type: RedisType | None = None
    endpoint: str | None = None
    """Webhook: the path under the dataset's URL."""
    instructions: Text | None = None
    """Manual: what staff must do, in every language."""
    fields: tuple[FieldSpec, ...]

    @property
    def qualified_name(self) -> str:
        return f"{self.dataset}.{self.name}"

    def field(self, name: str) -> FieldSpec:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def deletes_rows(self) -> bool:
        return any(f.erasure is not None and f.erasure.strategy is Strategy.DELETE_ROW for f in self.fields)

    @property
    def erased_fields(self) -> tuple[FieldSpec, ...]:
        """Fields erasure changes (neither kept nor left alone)."""
        return tuple(f for f in self.fields if f.erasure is not None
                     and f.erasure.strategy not in (Strategy.KEEP, Strategy.DELETE_ROW))

    @property
    def held(self) -> tuple[HeldField, ...]:
        return tuple(HeldField(collection=self.qualified_name, field=f.name, rule=f.erasure.rule or "")
                     for f in self.fields if f.erasure is not None and f.erasure.strategy is Strategy.KEEP)

    @property
    def has_erasure(self) -> bool:
        return self.deletes_rows or bool(self.erased_fields) or bool(self.held)


class ConnectionSpec(_Spec):
    """How to reach one dataset: secret names only, resolved to credentials when a connector is opened."""

    dataset: str
    kind: StoreKind
    secret: str | None = None
    """SQL and Redis: the secret holding the URL; webhook: the secret holding the signing key."""
    url: str | None = None
    """Webhook: the host's base URL (not a credential)."""
    hash_key_secret: str | None = None
    """The secret holding the HMAC key for fields erased with `hash`."""
    instructions: Text | None = None
    """Manual: what staff must do for this store."""


class Lookup(_Spec):
    """Which rows belong to the person: a row matches when any field listed equals any of its values."""

    values: Mapping[str, tuple[Scalar, ...]]

    @property
    def is_empty(self) -> bool:
        return not any(self.values.values())

    @property
    def size(self) -> int:
        return sum(len(v) for v in self.values.values())


class Expiry(_Spec):
    """Which rows a retention sweep (or a shutdown) erases: those whose `field` holds a moment before `before`, or
    every row when `field` is None. Rows matching `keep` (the people a legal hold covers) are left alone.

    The collection's erasure strategies decide what happens to an expired row: `delete_row` deletes it, the others
    anonymise its fields in place (so a second sweep finds nothing to change).
    """

    field: str | None = None
    before: dt.datetime | None = None
    """Naive datetimes are read as UTC; a `date` field is compared with `before`'s date."""
    keep: Lookup | None = None
    chunk_size: int = 10_000
    """Rows per statement (and per transaction): memory and lock time stay flat however many rows expire."""


class Scan(_Spec):
    """Read every row of a collection (only `fields`), optionally those whose `field` falls in [`since`, `until`],
    in pages of `chunk_size`: a stream, never the whole collection in memory."""

    fields: tuple[str, ...]
    field: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    chunk_size: int = 5_000


class HeldField(_Spec):
    """A field erasure kept because a retention rule locks it: the person is told, with the rule's reason."""

    collection: str
    field: str
    rule: str


class ManualAction(_Spec):
    """Charter cannot reach the store: staff must act, following `instructions`."""

    collection: str
    operation: Operation
    instructions: Text
    fields: tuple[str, ...]


class Retrieved(_Spec):
    collection: str
    rows: tuple[Row, ...] = ()
    manual: ManualAction | None = None


class ErasureRecord(_Spec):
    collection: str
    rows_deleted: int = 0
    rows_changed: int = 0
    fields: Mapping[str, Strategy] = {}
    """The fields the erasure applied to, with their strategy."""
    held: tuple[HeldField, ...] = ()
    manual: ManualAction | None = None


class RectifyRecord(_Spec):
    collection: str
    field: str
    rows_changed: int = 0
    manual: ManualAction | None = None


class ConnectionTest(_Spec):
    ok: bool
    message: str


class ConnectorError(CharterError):
    """The store could not do what the data map asked; the message names the store, never a personal value."""

    code = "connector_failed"


class MissingTable(ConnectorError):
    code = "datamap_missing_table"


class MissingColumn(ConnectorError):
    code = "datamap_missing_column"


class Connector(ABC):
    """One store. Every operation is idempotent: running it twice leaves the store as running it once did."""

    kind: StoreKind

    @abstractmethod
    def test_connection(self) -> ConnectionTest:
        """Can the store be reached with these credentials? Never raises for an unreachable store."""

    @abstractmethod
    def retrieve(self, spec: CollectionSpec, lookup: Lookup) -> Retrieved:
        """The person's rows, each with the collection's declared fields."""

    @abstractmethod
    def erase(self, spec: CollectionSpec, lookup: Lookup) -> ErasureRecord:
        """Apply each field's erasure strategy to the person's rows."""

    @abstractmethod
    def rectify(self, spec: CollectionSpec, lookup: Lookup, field: str, value: Scalar) -> RectifyRecord:
        """Set `field` to the corrected `value` in the person's rows."""

    @abstractmethod
    def expire(self, spec: CollectionSpec, expiry: Expiry, *, dry_run: bool = False) -> Iterator[ErasureRecord]:
        """Apply each field's erasure strategy to the expired rows, chunk by chunk, one record per chunk. With
        `dry_run`, change nothing and yield one record counting the rows that would be deleted or changed."""

    @abstractmethod
    def scan(self, spec: CollectionSpec, scan: Scan) -> Iterator[tuple[Row, ...]]:
        """The collection's rows (the fields `scan` names), page by page."""

    @contextmanager
    def held(self, *, atomic: bool = False) -> Iterator[None]:
        """Within the block, this thread's calls may share one connection: a batch of calls pays for reaching the
        store once. With `atomic`, the changes made in the block commit together when it ends, and none of them
        if it raises; a store without transactions applies each change at once. The default holds nothing."""
        yield

    def close(self) -> None:  # noqa: B027 - most connectors hold nothing to release
        """Release connections; the connector must not be used afterwards."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
