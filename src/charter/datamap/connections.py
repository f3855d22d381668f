"""Opening connectors for a plan's datasets: secret names resolved to credentials, one connector per dataset.

```python
with ConnectorPool(Secrets.from_environment()) as pool:
    rows = pool.get(task.connection).retrieve(task.collection, lookup).rows
```
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from types import TracebackType
from typing import Self

from charter.connectors.base import ConnectionSpec, Connector, ConnectorError, StoreKind
from charter.connectors.manual import ManualConnector
from charter.connectors.redis import RedisConnector
from charter.connectors.sql import SqlConnector
from charter.connectors.webhook import WebhookConnector
from charter.core.i18n import Text
from charter.core.secrets import Secrets

__all__ = ["MIN_KEY_BYTES", "ConnectorPool", "open_connector"]

MIN_KEY_BYTES = 16
"""Shortest hash or signing key accepted: a guessable key would let anyone recompute the hashes or forge calls."""


def open_connector(connection: ConnectionSpec, secrets: Secrets) -> Connector:
    """A connector for one dataset, its secrets read now; raises `MissingSecret` naming any that is not set."""
    if connection.kind is StoreKind.MANUAL:
        return ManualConnector(connection.instructions or Text(zh="请按数据地图处理", en="Handle as the data map says"))
    secret = _required(connection, secrets)
    hash_key = _key(connection.hash_key_secret, secrets, connection) if connection.hash_key_secret else None
    if connection.kind.is_sql:
        return SqlConnector(secret, hash_key=hash_key)
    if connection.kind is StoreKind.REDIS:
        return RedisConnector(secret, hash_key=hash_key)
    if not connection.url:
        raise ConnectorError(f"dataset {connection.dataset} has no webhook URL",
                             fix="Add `url:` under the dataset's `connection:`.")
    return WebhookConnector(connection.url, _key(connection.secret or "", secrets, connection))


def _required(connection: ConnectionSpec, secrets: Secrets) -> str:
    if not connection.secret:
        raise ConnectorError(f"dataset {connection.dataset} names no connection secret",
                             fix="Add `connection: {secret: NAME}` to the dataset in the data map.")
    return secrets.get(connection.secret)


def _key(name: str, secrets: Secrets, connection: ConnectionSpec) -> bytes:
    key = secrets.get(name).encode("utf-8")
    if len(key) < MIN_KEY_BYTES:
        raise ConnectorError(f"the key in secret {name} (dataset {connection.dataset}) is shorter than "
                             f"{MIN_KEY_BYTES} bytes", fix="Use a long random value, e.g. `openssl rand -hex 32`.")
    return key


class ConnectorPool:
    """One open connector per dataset, reused across tasks, requests and threads, closed together."""

    def __init__(self, secrets: Secrets) -> None:
        self.secrets = secrets
        self._open: dict[ConnectionSpec, Connector] = {}
        self._lock = threading.Lock()
        self._thread = threading.local()

    def get(self, connection: ConnectionSpec) -> Connector:
        connector = self._open.get(connection)
        if connector is None:
            with self._lock:
                connector = self._open.get(connection)
                if connector is None:
                    connector = open_connector(connection, self.secrets)
                    self._open[connection] = connector
        holding: tuple[ExitStack, set[ConnectionSpec], bool] | None = getattr(self._thread, "holding", None)
        if holding is not None and connection not in holding[1]:
            holding[0].enter_context(connector.held(atomic=holding[2]))
            holding[1].add(connection)
        return connector

    @contextmanager
    def held(self, *, atomic: bool = False) -> Iterator[None]:
        """Each connector this thread gets in the block holds its connection until the block ends
        (`Connector.held`): a request's batch of tasks reaches each store once. With `atomic`, each store's changes
        in the block commit together at its end, or are rolled back if the block raises (a failed commit raises
        `ConnectorError`, and the stores not committed yet roll back)."""
        if getattr(self._thread, "holding", None) is not None:
            yield
            return
        with ExitStack() as stack:
            self._thread.holding = (stack, set(), atomic)
            try:
                yield
            finally:
                self._thread.holding = None

    def close(self) -> None:
        for connector in self._open.values():
            connector.close()
        self._open.clear()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
