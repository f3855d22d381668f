"""Connectors: one module per kind of store, each a `Connector` taking plain values and credentials.

They import only `charter.core`; the data map (`charter.datamap`) builds their specs and opens them.
"""

from charter.connectors.base import (
    CollectionSpec,
    ConnectionSpec,
    ConnectionTest,
    Connector,
    ConnectorError,
    ErasureRecord,
    ErasureSpec,
    Expiry,
    FieldSpec,
    FieldType,
    Granularity,
    HeldField,
    Lookup,
    ManualAction,
    MissingColumn,
    MissingTable,
    Operation,
    RectifyRecord,
    RedisType,
    Retrieved,
    Row,
    Scalar,
    Scan,
    StoreKind,
    Strategy,
)
from charter.connectors.manual import ManualConnector
from charter.connectors.redis import RedisConnector
from charter.connectors.sql import SqlConnector
from charter.connectors.webhook import WebhookConnector

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
    "ManualConnector",
    "MissingColumn",
    "MissingTable",
    "Operation",
    "RectifyRecord",
    "RedisConnector",
    "RedisType",
    "Retrieved",
    "Row",
    "Scalar",
    "Scan",
    "SqlConnector",
    "StoreKind",
    "Strategy",
    "WebhookConnector",
]
