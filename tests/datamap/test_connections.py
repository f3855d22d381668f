from __future__ import annotations

from pathlib import Path

import pytest

from charter.connectors.base import ConnectionSpec, ConnectorError, StoreKind
from charter.connectors.manual import ManualConnector
from charter.connectors.redis import RedisConnector
from charter.connectors.sql import SqlConnector
from charter.connectors.webhook import WebhookConnector
from charter.core.secrets import MissingSecret, Secrets
from charter.datamap.connections import ConnectorPool, open_connector
from charter.datamap.plan import plan_request
from tests.datamap.maps import shop


def _connections() -> dict[str, ConnectionSpec]:
    return {t.connection.dataset: t.connection for t in plan_request(shop(), ["email", "phone"]).access}


def test_each_kind_of_dataset_opens_its_connector(tmp_path: Path) -> None:
    secrets = Secrets.from_environment({
        "CHARTER_SECRET_SHOP_DB": f"sqlite:///{tmp_path / 'shop.db'}",
        "CHARTER_SECRET_SHOP_HASH_KEY": "a hash key long enough to use",
        "CHARTER_SECRET_SHOP_REDIS": "redis://127.0.0.1:6379/0",
        "CHARTER_SECRET_HELPDESK_KEY": "a signing key long enough to use"})
    connections = _connections()
    with ConnectorPool(secrets) as pool:
        sql = pool.get(connections["shop_db"])
        assert isinstance(sql, SqlConnector)
        assert sql.hash_key == b"a hash key long enough to use"
        assert pool.get(connections["shop_db"]) is sql
        assert isinstance(pool.get(connections["sessions"]), RedisConnector)
        webhook = pool.get(connections["helpdesk"])
        assert isinstance(webhook, WebhookConnector)
        assert webhook.url == "https://support.acme.example/charter"
        assert isinstance(pool.get(connections["archive"]), ManualConnector)


def test_a_missing_secret_is_named() -> None:
    with pytest.raises(MissingSecret) as caught:
        open_connector(_connections()["shop_db"], Secrets.from_environment({}))
    assert "SHOP_DB" in caught.value.message


def test_a_short_key_is_refused() -> None:
    secrets = Secrets.from_environment({"CHARTER_SECRET_HELPDESK_KEY": "short"})
    with pytest.raises(ConnectorError, match="shorter than 16 bytes"):
        open_connector(_connections()["helpdesk"], secrets)


def test_a_dataset_without_a_secret_cannot_open() -> None:
    with pytest.raises(ConnectorError, match="names no connection secret"):
        open_connector(ConnectionSpec(dataset="d", kind=StoreKind.POSTGRESQL), Secrets.from_environment({}))
