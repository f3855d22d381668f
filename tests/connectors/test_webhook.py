"""`WebhookConnector` against a real host application served over HTTP on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from charter.connectors.base import (
    CollectionSpec,
    ConnectorError,
    ErasureSpec,
    Expiry,
    FieldSpec,
    FieldType,
    Lookup,
    MissingTable,
    Scan,
    Strategy,
)
from charter.connectors.webhook import WebhookConnector, sign, verify_signature
from charter.datamap.plan import plan_request
from tests.connectors.webhook_host import HostStore, make_host
from tests.datamap.maps import shop
from tests.live import live_server

KEY = b"the host and charter share this signing key"


@pytest.fixture(scope="module")
def host() -> Iterator[tuple[str, HostStore]]:
    app, store = make_host(KEY)
    with live_server(app) as url:
        yield url + "/charter", store


def _seed(store: HostStore) -> None:
    store.tables["tickets"] = [
        {"requester": "ann@example.com", "body": "my order is late", "id": 1},
        {"requester": "ann@example.com", "body": "thanks", "id": 2},
        {"requester": "bob@example.com", "body": "hello", "id": 3},
    ]
    store.calls.clear()


def _tickets_spec() -> CollectionSpec:
    return next(t for t in plan_request(shop(), ["email"]).erasure if t.key == "helpdesk.tickets").collection


def test_a_signed_call_reads_the_persons_rows(host: tuple[str, HostStore]) -> None:
    url, store = host
    _seed(store)
    with WebhookConnector(url, KEY) as connector:
        assert connector.test_connection().ok
        rows = connector.retrieve(_tickets_spec(), Lookup(values={"requester": ("ann@example.com",)})).rows
    assert rows == ({"requester": "ann@example.com", "body": "my order is late"},
                    {"requester": "ann@example.com", "body": "thanks"})


def test_erasure_names_each_strategy_and_repeats_harmlessly(host: tuple[str, HostStore]) -> None:
    url, store = host
    _seed(store)
    lookup = Lookup(values={"requester": ("ann@example.com",)})
    with WebhookConnector(url, KEY) as connector:
        record = connector.erase(_tickets_spec(), lookup)
        assert record.rows_changed == 2
        assert record.fields == {"requester": Strategy.NULLIFY, "body": Strategy.NULLIFY}
        again = connector.erase(_tickets_spec(), lookup)
    assert again.rows_changed == 0
    assert [r["body"] for r in store.tables["tickets"]] == [None, None, "hello"]
    (first, key1), (second, key2) = store.calls
    assert (first, second) == ("erase", "erase")
    assert key1 == key2, "a repeated call carries the same idempotency key"


def test_rectify_through_the_host(host: tuple[str, HostStore]) -> None:
    url, store = host
    _seed(store)
    with WebhookConnector(url, KEY) as connector:
        record = connector.rectify(_tickets_spec(), Lookup(values={"requester": ("bob@example.com",)}), "body", "hi")
    assert record.rows_changed == 1
    assert store.tables["tickets"][2]["body"] == "hi"


def test_a_wrong_key_is_refused_by_the_host(host: tuple[str, HostStore]) -> None:
    url, store = host
    _seed(store)
    with WebhookConnector(url, b"not the shared key") as connector:
        assert not connector.test_connection().ok
        with pytest.raises(ConnectorError, match="refused Charter's signature"):
            connector.erase(_tickets_spec(), Lookup(values={"requester": ("ann@example.com",)}))
    assert store.tables["tickets"][0]["body"] == "my order is late"


def test_an_endpoint_the_host_lacks_is_a_missing_table(host: tuple[str, HostStore]) -> None:
    url, _store = host
    spec = _tickets_spec().model_copy(update={"endpoint": "ticket"})
    with WebhookConnector(url, KEY) as connector, pytest.raises(MissingTable, match="404"):
        connector.retrieve(spec, Lookup(values={"requester": ("ann@example.com",)}))


def test_an_unreachable_host_is_a_clear_error() -> None:
    with WebhookConnector("http://127.0.0.1:1/charter", KEY, timeout=2) as connector:
        result = connector.test_connection()
    assert not result.ok
    assert "cannot reach" in result.message


def test_signatures_expire_and_bind_the_body() -> None:
    body = b'{"operation":"test"}'
    header = sign(KEY, 1_000_000, body)
    assert verify_signature(KEY, header, body, now=1_000_100)
    assert not verify_signature(KEY, header, body, now=1_000_000 + 301)
    assert not verify_signature(KEY, header, body + b" ", now=1_000_100)
    assert not verify_signature(b"other", header, body, now=1_000_100)
    assert not verify_signature(KEY, None, body)
    assert not verify_signature(KEY, "t=x,v1=y", body)


def _expiring_spec() -> CollectionSpec:
    return CollectionSpec(dataset="helpdesk", name="tickets", fields=(
        FieldSpec(name="id", type=FieldType.INTEGER, is_primary_key=True),
        FieldSpec(name="requester", type=FieldType.STRING, categories=("contact.email",),
                  erasure=ErasureSpec(strategy=Strategy.DELETE_ROW)),
        FieldSpec(name="opened", type=FieldType.DATETIME)))


def test_a_sweep_pages_through_the_host_until_it_says_no_more(host: tuple[str, HostStore]) -> None:
    url, store = host
    _seed(store)
    for row, opened in zip(store.tables["tickets"], ("2020-01-01T00:00:00", "2020-02-01T00:00:00",
                                                     "2020-03-01T00:00:00"), strict=True):
        row["opened"] = opened
    store.tables["tickets"].append({"requester": "cai@example.com", "body": "new", "id": 4,
                                    "opened": "2025-05-01T00:00:00"})
    expiry = Expiry(field="opened", before=dt.datetime(2024, 1, 1), chunk_size=1,
                    keep=Lookup(values={"requester": ("bob@example.com",)}))
    with WebhookConnector(url, KEY) as connector:
        [dry] = connector.expire(_expiring_spec(), expiry, dry_run=True)
        records = list(connector.expire(_expiring_spec(), expiry))
        pages = list(connector.scan(_expiring_spec(), Scan(fields=("id", "requester"), chunk_size=1)))
    assert dry.rows_deleted == 2
    assert [r.rows_deleted for r in records] == [1, 1]
    assert [r["id"] for r in store.tables["tickets"]] == [3, 4]
    assert [[row["id"] for row in page] for page in pages] == [[3], [4]]
