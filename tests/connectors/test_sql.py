"""`SqlConnector` against real SQLite, PostgreSQL and MariaDB databases holding real tables."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Column, Date, DateTime, Integer, MetaData, String, Table, create_engine

from charter.connectors.base import (
    CollectionSpec,
    ConnectorError,
    ErasureSpec,
    FieldSpec,
    FieldType,
    Granularity,
    Lookup,
    MissingColumn,
    MissingTable,
    StoreKind,
    Strategy,
)
from charter.connectors.sql import SqlConnector
from charter.connectors.transforms import keyed_hash
from charter.datamap.plan import Plan, plan_request
from tests.connectors.shop_tables import (
    ANN,
    HASH_KEY,
    addresses,
    customers,
    order_items,
    orders,
    run_access,
    run_erasure,
    shop_database,
    table_rows,
)
from tests.datamap.maps import shop

BACKENDS = ["sqlite", "postgresql", "mariadb"]


@pytest.fixture(params=BACKENDS)
def shop_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with shop_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def connector(shop_url: str) -> Iterator[SqlConnector]:
    with SqlConnector(shop_url, hash_key=HASH_KEY) as c:
        yield c


def _plan() -> Plan:
    return plan_request(shop(), ["email", "phone"])


def test_the_connection_is_tested_and_the_kind_known(connector: SqlConnector) -> None:
    result = connector.test_connection()
    assert result.ok, result.message
    assert connector.kind in (StoreKind.SQLITE, StoreKind.POSTGRESQL, StoreKind.MYSQL)


def test_a_planned_access_returns_exactly_the_persons_rows(connector: SqlConnector) -> None:
    found = run_access(_plan(), {"shop_db": connector}, ANN)
    assert [r["email"] for r in found["shop_db.customers"]] == ["ann@example.com"]
    assert found["shop_db.customers"][0]["birth_date"] == dt.date(1990, 5, 17)
    assert [r["street"] for r in found["shop_db.addresses"]] == ["1 Example Road"]
    assert sorted(r["id"] for r in found["shop_db.orders"]) == ["o1", "o2"]
    assert sorted(r["sku"] for r in found["shop_db.order_items"]) == ["sku1", "sku2", "sku3"]


def test_a_planned_erasure_applies_every_strategy_and_spares_others(connector: SqlConnector, shop_url: str) -> None:
    records = run_erasure(_plan(), {"shop_db": connector}, ANN)
    assert records["shop_db.order_items"].rows_deleted == 3
    assert records["shop_db.orders"].rows_changed == 1  # o2's note is already NULL
    assert [h.rule for h in records["shop_db.orders"].held] == ["tax_records"]
    assert records["shop_db.customers"].rows_changed == 1
    assert records["shop_db.addresses"].rows_changed == 1

    ann, bob = sorted(table_rows(shop_url, customers), key=lambda r: r["id"])
    assert ann["email"] == keyed_hash("ann@example.com", HASH_KEY)
    assert ann["phone"] is None
    assert ann["name"] == "(erased)"
    assert ann["birth_date"] == dt.date(1990, 1, 1)
    assert bob["email"] == "bob@example.com"
    assert bob["birth_date"] == dt.date(1985, 11, 2)
    street = {r["id"]: (r["street"], r["postcode"]) for r in table_rows(shop_url, addresses)}
    assert street == {10: (None, "200***"), 11: ("2 Sample Street", "100002")}
    kept = {r["id"]: (r["total"], r["note"]) for r in table_rows(shop_url, orders)}
    assert kept == {"o1": (Decimal("99.50"), None), "o2": (Decimal("10.00"), None), "o3": (Decimal("5.00"),
                                                                                             "bob's note")}
    assert [r["order_id"] for r in table_rows(shop_url, order_items)] == ["o3"]


def test_erasing_twice_changes_nothing_more(connector: SqlConnector, shop_url: str) -> None:
    run_erasure(_plan(), {"shop_db": connector}, ANN)
    before = {t.name: table_rows(shop_url, t) for t in (customers, addresses, orders, order_items)}
    plan = _plan()
    saved = {"shop_db.customers": [{"id": 1, "address_id": 10}], "shop_db.orders": [{"id": "o1"}, {"id": "o2"}]}
    from charter.datamap.plan import resolve_lookup  # noqa: PLC0415

    for task in plan.erasure:
        if task.connection.dataset == "shop_db":
            record = connector.erase(task.collection, resolve_lookup(task, ANN, saved))
            assert (record.rows_changed, record.rows_deleted) == (0, 0), task.key
    assert {t.name: table_rows(shop_url, t) for t in (customers, addresses, orders, order_items)} == before


def test_rectification_changes_the_field_once(connector: SqlConnector, shop_url: str) -> None:
    task = _plan().access[0]
    lookup = Lookup(values={"email": ("bob@example.com",)})
    assert connector.rectify(task.collection, lookup, "name", "Robert").rows_changed == 1
    assert connector.rectify(task.collection, lookup, "name", "Robert").rows_changed == 0
    assert {r["id"]: r["name"] for r in table_rows(shop_url, customers)} == {1: "Ann", 2: "Robert"}


def test_a_missing_table_is_a_clear_error_not_an_empty_answer(connector: SqlConnector) -> None:
    spec = _plan().access[0].collection.model_copy(update={"table": "customer"})
    with pytest.raises(MissingTable) as caught:
        connector.retrieve(spec, Lookup(values={"email": ("ann@example.com",)}))
    assert "table customer" in caught.value.message
    assert "customers" in caught.value.fix
    with pytest.raises(MissingTable):
        connector.erase(spec, Lookup(values={"email": ("ann@example.com",)}))


def test_a_missing_column_names_it_and_changes_nothing(connector: SqlConnector, shop_url: str) -> None:
    spec = _plan().access[0].collection
    broken = spec.model_copy(update={"fields": (*spec.fields, FieldSpec(name="wechat", erasure=ErasureSpec(
        strategy=Strategy.NULLIFY)))})
    before = table_rows(shop_url, customers)
    with pytest.raises(MissingColumn) as caught:
        connector.erase(broken, Lookup(values={"email": ("ann@example.com",)}))
    assert "wechat" in caught.value.message
    assert "the table has: address_id, birth_date, email, id, name, phone" in caught.value.fix
    assert caught.value.field == "shop_db.customers.wechat"
    assert table_rows(shop_url, customers) == before


def test_a_database_refusal_never_quotes_the_row(connector: SqlConnector, shop_url: str) -> None:
    engine = create_engine(shop_url)
    strict = Table("strict_people", MetaData(), Column("id", Integer, primary_key=True, autoincrement=False),
                   Column("email", String(100), nullable=False))
    strict.create(engine)
    with engine.begin() as conn:
        conn.execute(strict.insert(), [{"id": 1, "email": "secret-person@example.com"}])
    engine.dispose()
    spec = CollectionSpec(dataset="db", name="strict_people", fields=(
        FieldSpec(name="id", type=FieldType.INTEGER, is_primary_key=True),
        FieldSpec(name="email", type=FieldType.STRING, erasure=ErasureSpec(strategy=Strategy.NULLIFY))))
    with pytest.raises(ConnectorError) as caught:
        connector.erase(spec, Lookup(values={"email": ("secret-person@example.com",)}))
    assert "strict_people" in caught.value.message
    assert "secret-person" not in str(caught.value)
    assert "constraint" in caught.value.message


def test_date_generalisation_and_masks_run_as_one_update_in_each_dialect(connector: SqlConnector,
                                                                         shop_url: str) -> None:
    engine = create_engine(shop_url)
    people = Table("people", MetaData(), Column("ref", String(20)), Column("born", Date),
                   Column("seen", DateTime), Column("city", String(40)), Column("nick", String(40)))
    people.create(engine)
    with engine.begin() as conn:
        conn.execute(people.insert(), [
            {"ref": "p1", "born": dt.date(1990, 5, 17), "seen": dt.datetime(2024, 3, 9, 13, 45, 7), "city": "Shanghai",
             "nick": "pp"},
            {"ref": "p2", "born": dt.date(1991, 6, 1), "seen": None, "city": "Beijing", "nick": None}])
    engine.dispose()
    spec = CollectionSpec(dataset="db", name="people", fields=(
        FieldSpec(name="ref", type=FieldType.STRING),
        FieldSpec(name="born", type=FieldType.DATE, erasure=ErasureSpec(strategy=Strategy.GENERALISE,
                                                                         to=Granularity.MONTH)),
        FieldSpec(name="seen", type=FieldType.DATETIME, erasure=ErasureSpec(strategy=Strategy.GENERALISE,
                                                                             to=Granularity.YEAR)),
        FieldSpec(name="city", type=FieldType.STRING, erasure=ErasureSpec(strategy=Strategy.MASK, value="-")),
        FieldSpec(name="nick", type=FieldType.STRING, erasure=ErasureSpec(strategy=Strategy.NULLIFY))))
    lookup = Lookup(values={"ref": ("p1",)})
    assert connector.erase(spec, lookup).rows_changed == 1
    assert connector.erase(spec, lookup).rows_changed == 0
    rows = {r["ref"]: r for r in table_rows(shop_url, people)}
    assert (rows["p1"]["born"], rows["p1"]["seen"]) == (dt.date(1990, 5, 1), dt.datetime(2024, 1, 1))
    assert (rows["p1"]["city"], rows["p1"]["nick"]) == ("-", None)
    assert (rows["p2"]["born"], rows["p2"]["city"]) == (dt.date(1991, 6, 1), "Beijing")


def test_an_empty_lookup_touches_nothing(connector: SqlConnector) -> None:
    spec = _plan().erasure[0].collection
    assert connector.retrieve(spec, Lookup(values={})).rows == ()
    assert connector.erase(spec, Lookup(values={"order_id": ()})).rows_deleted == 0


def test_a_mistyped_sqlite_path_fails_without_creating_a_file(tmp_path: Path) -> None:
    path = tmp_path / "no-such.db"
    with SqlConnector(f"sqlite:///{path}") as missing:
        result = missing.test_connection()
    assert not result.ok
    assert not path.exists()


def test_an_unsupported_database_is_refused() -> None:
    with pytest.raises(ConnectorError, match="not supported"):
        SqlConnector("oracle://user@host/db")
