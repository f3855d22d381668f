"""The shop fixture's tables (tests/datamap/fixtures/shop.yaml, dataset `shop_db`), created for real and seeded
with two customers, and a tiny runner that executes a plan's tasks the way a request runner would."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Date,
    Engine,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    create_engine,
    select,
)

from charter.connectors.base import Connector, ErasureRecord, Row
from charter.datamap.plan import Plan, resolve_lookup
from tests.services import fresh_mariadb_database, fresh_postgres_database

metadata = MetaData()
customers = Table("customers", metadata, Column("id", Integer, primary_key=True, autoincrement=False),
                  Column("email", String(200)), Column("phone", String(32)), Column("name", String(100)),
                  Column("birth_date", Date), Column("address_id", Integer))
addresses = Table("addresses", metadata, Column("id", Integer, primary_key=True, autoincrement=False),
                  Column("street", String(200)), Column("postcode", String(20)))
orders = Table("orders", metadata, Column("id", String(40), primary_key=True),
               Column("customer_id", Integer), Column("total", Numeric(10, 2)), Column("note", String(200)))
order_items = Table("order_items", metadata, Column("order_id", String(40)), Column("sku", String(40)),
                    Column("gift_message", String(200)))

ANN = {"email": ["ann@example.com"], "phone": ["+8613800138000"]}
BOB = {"email": ["bob@example.com"]}
HASH_KEY = b"a test hash key of 32 bytes....."


def seed(engine: Engine) -> None:
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(customers.insert(), [
            {"id": 1, "email": "ann@example.com", "phone": "+8613800138000", "name": "Ann",
             "birth_date": dt.date(1990, 5, 17), "address_id": 10},
            {"id": 2, "email": "bob@example.com", "phone": "+8613900139000", "name": "Bob",
             "birth_date": dt.date(1985, 11, 2), "address_id": 11},
        ])
        conn.execute(addresses.insert(), [{"id": 10, "street": "1 Example Road", "postcode": "200001"},
                                          {"id": 11, "street": "2 Sample Street", "postcode": "100002"}])
        conn.execute(orders.insert(), [
            {"id": "o1", "customer_id": 1, "total": Decimal("99.50"), "note": "gift for mum"},
            {"id": "o2", "customer_id": 1, "total": Decimal("10.00"), "note": None},
            {"id": "o3", "customer_id": 2, "total": Decimal("5.00"), "note": "bob's note"},
        ])
        conn.execute(order_items.insert(), [
            {"order_id": "o1", "sku": "sku1", "gift_message": "Happy birthday"},
            {"order_id": "o1", "sku": "sku2", "gift_message": None},
            {"order_id": "o2", "sku": "sku3", "gift_message": None},
            {"order_id": "o3", "sku": "sku1", "gift_message": "hi"},
        ])


@contextmanager
def shop_database(backend: str, tmp_path: Path) -> Iterator[str]:
    """A fresh database of `backend` (sqlite, postgresql, mariadb) holding the seeded shop tables."""
    with _fresh(backend, tmp_path) as url:
        engine = create_engine(url)
        try:
            seed(engine)
        finally:
            engine.dispose()
        yield url


@contextmanager
def _fresh(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'shop.db'}"
    elif backend == "postgresql":
        with fresh_postgres_database() as url:
            yield url
    else:
        with fresh_mariadb_database() as url:
            yield url


def table_rows(url: str, table: Table) -> list[dict[str, Any]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(table)).mappings()]
    finally:
        engine.dispose()


def run_access(plan: Plan, connectors: Mapping[str, Connector],
               identities: Mapping[str, Sequence[str]]) -> dict[str, tuple[Row, ...]]:
    """Read every collection whose dataset has a connector, parents first, as a request runner does."""
    found: dict[str, tuple[Row, ...]] = {}
    for task in plan.access:
        connector = connectors.get(task.connection.dataset)
        if connector is not None:
            lookup = resolve_lookup(task, identities, found)
            found[task.key] = connector.retrieve(task.collection, lookup).rows
    return found


def run_erasure(plan: Plan, connectors: Mapping[str, Connector],
                identities: Mapping[str, Sequence[str]]) -> dict[str, ErasureRecord]:
    """Access first (keeping only the keys later lookups need), then erase children before parents."""
    found = run_access(plan, connectors, identities)
    saved = {key: [{f: row.get(f) for f in plan.keys_needed.get(key, ())} for row in rows]
             for key, rows in found.items()}
    records: dict[str, ErasureRecord] = {}
    for task in plan.erasure:
        connector = connectors.get(task.connection.dataset)
        if connector is not None:
            records[task.key] = connector.erase(task.collection, resolve_lookup(task, identities, saved))
    return records
