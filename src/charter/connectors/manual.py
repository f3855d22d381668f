"""`ManualConnector`: a store Charter cannot reach at all (paper files, a vendor's portal). Every operation
answers "manual action required" with the dataset's instructions; the request runner turns that into a task for
staff and waits for them to record what they did."""

from __future__ import annotations

from collections.abc import Iterator

from charter.connectors.base import (
    CollectionSpec,
    ConnectionTest,
    Connector,
    ConnectorError,
    ErasureRecord,
    Expiry,
    Lookup,
    ManualAction,
    Operation,
    RectifyRecord,
    Retrieved,
    Row,
    Scalar,
    Scan,
    StoreKind,
)
from charter.core.i18n import Text

__all__ = ["ManualConnector"]


class ManualConnector(Connector):
    kind = StoreKind.MANUAL

    def __init__(self, instructions: Text) -> None:
        self.instructions = instructions

    def test_connection(self) -> ConnectionTest:
        return ConnectionTest(ok=True, message="a manual store: staff act on instructions, nothing to connect to")

    def retrieve(self, spec: CollectionSpec, lookup: Lookup) -> Retrieved:
        return Retrieved(collection=spec.qualified_name, manual=self._action(spec, Operation.RETRIEVE))

    def erase(self, spec: CollectionSpec, lookup: Lookup) -> ErasureRecord:
        fields = {f.name: f.erasure.strategy for f in spec.fields if f.erasure is not None}
        return ErasureRecord(collection=spec.qualified_name, fields=fields, held=spec.held,
                             manual=self._action(spec, Operation.ERASE))

    def expire(self, spec: CollectionSpec, expiry: Expiry, *, dry_run: bool = False) -> Iterator[ErasureRecord]:
        yield self.erase(spec, Lookup(values={}))

    def scan(self, spec: CollectionSpec, scan: Scan) -> Iterator[tuple[Row, ...]]:
        raise ConnectorError(f"{spec.qualified_name} is a manual store: Charter cannot read it",
                             fix="Ask staff to search it, following the data map's instructions.")

    def rectify(self, spec: CollectionSpec, lookup: Lookup, field: str, value: Scalar) -> RectifyRecord:
        return RectifyRecord(collection=spec.qualified_name, field=field,
                             manual=self._action(spec, Operation.RECTIFY, (field,)))

    def _action(self, spec: CollectionSpec, operation: Operation,
                fields: tuple[str, ...] | None = None) -> ManualAction:
        return ManualAction(collection=spec.qualified_name, operation=operation,
                            instructions=spec.instructions or self.instructions,
                            fields=fields if fields is not None else tuple(f.name for f in spec.fields))
