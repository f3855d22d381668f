"""The data the request benchmarks run on: Fides' own PostgreSQL sample, with copies of its busiest customer.

`customer-1@example.com` in the sample has a customer row, two addresses, a payment card, three orders with four
items, six logins, a visit and a service request. A *person* here is a copy of exactly that (`person-N@…`, its
own ids and addresses), so every request in a run finds — and every erasure erases — the same amount of data,
instead of re-running on rows an earlier erasure already emptied. Everything is generated on the server
(`generate_series`, MariaDB's `seq_1_to_N`), so a million rows take seconds, not minutes.

- `load_sample`: the sample as Fides ships it, plus N people.
- `move_to_mariadb`: orders, order items, logins and visits moved to a MariaDB database (people included), and
  the two Redis collections (a session hash by customer id, a cart string by email) filled for the same people.
- `fill`: other people's rows until each large table holds `rows`, with the indexes a real deployment keeps on
  the identity and reference columns, then `VACUUM ANALYZE`.
"""

# ruff: noqa: S608 - statements built from this file's constants and numbers, never from input

from __future__ import annotations

from typing import Any

import psycopg
import pymysql  # type: ignore[import-untyped]
import redis
import yaml
from tests.datamap.fides_paths import SQL

__all__ = ["BIG_TABLES", "MOVED", "cross_store_map", "email", "fill", "load_sample", "move_to_mariadb",
           "sample_map"]

DATASET = "postgres_example_test_dataset"
MOVED = ("orders", "order_item", "login", "visit")
"""The collections the cross-store variant keeps in MariaDB."""
BIG_TABLES = ("customer", "address", "orders", "order_item", "payment_card", "login", "visit", "service_request",
              "report")
"""The tables that grow with the number of customers; employee and product are reference tables."""


def email(person: int) -> str:
    return f"person-{person}@example.com"


def _dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _people_sql(count: int) -> list[str]:
    """Copies of customer-1 for people 1..count (ids: customer 100000+p, addresses 200000+2p and +1, logins
    1000000+10p+i), as Fides' own rows are: two orders ship to the home address and one to the second, the card
    bills the home address, the second order has two items."""
    p = f"generate_series(1, {count}) AS p(n)"
    person = "'person-' || p.n || '@example.com'"
    return [
        f"INSERT INTO address SELECT 200000 + 2 * p.n, 123, 'Example Street', 'Exampletown', 'NY', '12345' FROM {p}",
        f"INSERT INTO address SELECT 200001 + 2 * p.n, 4, 'Example Lane', 'Exampletown', 'NY', '12321' FROM {p}",
        f"INSERT INTO customer SELECT 100000 + p.n, {person}, 'John Customer', '2020-04-01 11:47:42', "
        f"200000 + 2 * p.n FROM {p}",
        f"INSERT INTO payment_card SELECT 'pay_p' || p.n, 'Example Card 1', 123456789, 321, true, 100000 + p.n, "
        f"200000 + 2 * p.n FROM {p}",
        f"INSERT INTO orders SELECT 'ord_p' || p.n || '_' || i, 100000 + p.n, "
        f"CASE WHEN i = 1 THEN 200001 ELSE 200000 END + 2 * p.n, 'pay_p' || p.n "
        f"FROM {p}, generate_series(1, 3) AS i",
        f"INSERT INTO order_item SELECT 'ord_p' || p.n || '_' || i, 1, 1, 1 FROM {p}, generate_series(1, 3) AS i",
        f"INSERT INTO order_item SELECT 'ord_p' || p.n || '_2', 2, 2, 1 FROM {p}",
        f"INSERT INTO login SELECT 1000000 + 10 * p.n + i, 100000 + p.n, '2021-01-01 01:00:00'::timestamp + "
        f"i * interval '1 day' FROM {p}, generate_series(1, 6) AS i",
        f"INSERT INTO visit SELECT {person}, '2021-01-06 01:00:00' FROM {p}",
        f"INSERT INTO service_request SELECT 'ser_p' || p.n, {person}, 'person-' || p.n || '-alt@example.com', "
        f"'2021-01-01', '2021-01-03', 1 FROM {p}",
    ]


def load_sample(url: str, people: int) -> None:
    """Fides' sample SQL as it ships, then `people` copies of customer-1."""
    with psycopg.connect(_dsn(url), autocommit=True) as conn:
        conn.execute(SQL.read_text(encoding="utf-8"))
        with conn.transaction():
            for statement in _people_sql(people):
                conn.execute(statement)


_MARIA_TABLES = [
    "CREATE TABLE orders (id VARCHAR(100) PRIMARY KEY, customer_id INT, shipping_address_id BIGINT, "
    "payment_card_id VARCHAR(100), KEY ix_orders_customer_id (customer_id))",
    "CREATE TABLE order_item (order_id VARCHAR(100), item_no SMALLINT, product_id INT, quantity SMALLINT, "
    "PRIMARY KEY (order_id, item_no))",
    "CREATE TABLE login (id INT PRIMARY KEY, customer_id INT, time DATETIME NULL, "
    "KEY ix_login_customer_id (customer_id))",
    "CREATE TABLE visit (email VARCHAR(100), last_visit DATETIME NOT NULL, PRIMARY KEY (email, last_visit))",
]


def move_to_mariadb(pg_url: str, maria_url: str, redis_url: str, prefix: str, people: int) -> None:
    """Move the `MOVED` tables, rows and all, from the PostgreSQL sample to MariaDB, and fill Redis."""
    maria = _maria(maria_url)
    try:
        with maria.cursor() as cur, psycopg.connect(_dsn(pg_url), autocommit=True) as pg:
            for statement in _MARIA_TABLES:
                cur.execute(statement)
            for name in MOVED:
                rows = pg.execute(f"SELECT * FROM {name}").fetchall()
                if rows:
                    marks = ", ".join(["%s"] * len(rows[0]))
                    cur.executemany(f"INSERT INTO {name} VALUES ({marks})", rows)
                pg.execute(f"DROP TABLE {name}")
        maria.commit()
    finally:
        maria.close()
    client = redis.Redis.from_url(redis_url)
    try:
        pipe = client.pipeline(transaction=False)
        for person in range(1, people + 1):
            pipe.hset(f"{prefix}session:{100000 + person}", mapping={"last_login": "2021-01-06T01:00:00Z",
                                                                       "device": "iPhone"})
            pipe.set(f"{prefix}cart:{email(person)}", "1x The Choco Chip")
        pipe.execute()
    finally:
        client.close()


def _maria(url: str) -> Any:
    from sqlalchemy.engine import make_url  # noqa: PLC0415 - only to read the URL's parts

    parsed = make_url(url)
    return pymysql.connect(host=parsed.host, port=parsed.port or 3306, user=parsed.username,
                           password=parsed.password or "", database=parsed.database, autocommit=False)


_INDEXES = [
    "CREATE INDEX ix_customer_email ON customer (email)",
    "CREATE INDEX ix_employee_email ON employee (email)",
    "CREATE INDEX ix_report_email ON report (email)",
    "CREATE INDEX ix_service_request_email ON service_request (email)",
    "CREATE INDEX ix_service_request_alt_email ON service_request (alt_email)",
    "CREATE INDEX ix_service_request_employee_id ON service_request (employee_id)",
    "CREATE INDEX ix_login_customer_id ON login (customer_id)",
    "CREATE INDEX ix_orders_customer_id ON orders (customer_id)",
    "CREATE INDEX ix_payment_card_customer_id ON payment_card (customer_id)",
]
"""Identity columns and the columns references are followed by; primary keys (address.id, order_item's
(order_id, item_no), visit's (email, last_visit), product.id, employee.id) serve the rest."""


def fill(url: str, rows: int) -> None:
    """Other people's rows (`other-N@example.net`, ids from 10,000,000) until each of `BIG_TABLES` holds about
    `rows`, the deployment's indexes, and fresh planner statistics."""
    base = 10_000_000
    g = f"generate_series(1, {rows}) g"
    other = "'other-' || g || '@example.net'"
    statements = [
        f"INSERT INTO address SELECT {base} + g, g % 9000, 'Other Street', 'Othertown', 'CA', '9' || g % 10000 "
        f"FROM {g}",
        f"INSERT INTO customer SELECT {base} + g, {other}, 'Other Customer', '2022-01-01', {base} + g FROM {g}",
        f"INSERT INTO payment_card SELECT 'pay_o' || g, 'Other Card', 4000000000 + g, g % 999, false, {base} + g, "
        f"{base} + g FROM {g}",
        f"INSERT INTO orders SELECT 'ord_o' || g, {base} + g, {base} + g, 'pay_o' || g FROM {g}",
        f"INSERT INTO order_item SELECT 'ord_o' || g, 1, 1 + g % 6, 1 FROM {g}",
        f"INSERT INTO login SELECT {base} + g, {base} + g, '2022-01-01'::timestamp + g * interval '1 second' "
        f"FROM {g}",
        f"INSERT INTO visit SELECT {other}, '2022-01-01' FROM {g}",
        f"INSERT INTO service_request SELECT 'ser_o' || g, {other}, NULL, '2022-01-01', NULL, 1 + g % 2 FROM {g}",
        f"INSERT INTO report SELECT {base} + g, {other}, 'Monthly Report', 2022, 1 + g % 12, g % 100 FROM {g}",
    ]
    with psycopg.connect(_dsn(url), autocommit=True) as conn:
        for statement in statements + _INDEXES:
            conn.execute(statement)
        conn.execute("VACUUM ANALYZE")


def sample_map(text: str, controller_id: str) -> str:
    """The imported data map (examples/fides-sample/datamap.yaml) for this controller."""
    return text.replace("controller: fides-sample", f"controller: {controller_id}")


def _prefixed(reference: Any) -> Any:
    """A reference from a moved collection to one left in PostgreSQL names that dataset."""
    if isinstance(reference, str):
        return reference if reference.split(".")[0] in MOVED else f"{DATASET}.{reference}"
    if isinstance(reference, dict):
        return {**reference, "field": _prefixed(reference["field"])}
    return [_prefixed(r) for r in reference]


def cross_store_map(text: str, controller_id: str, redis_prefix: str) -> str:
    """The imported map with `MOVED` in a MariaDB dataset and two Redis collections: a session hash found from
    the customer's id, and a cart string keyed by the person's email."""
    doc: dict[str, Any] = yaml.safe_load(sample_map(text, controller_id))
    pg = doc["systems"][0]["datasets"][0]
    moved = [c for c in pg["collections"] if c["name"] in MOVED]
    pg["collections"] = [c for c in pg["collections"] if c["name"] not in MOVED]
    for collection in moved:
        for field in collection["fields"]:
            if "references" in field:
                field["references"] = _prefixed(field["references"])
    customer_id = f"{DATASET}.customer.id"
    doc["systems"][0]["datasets"] += [
        {"id": "maria", "kind": "mysql", "connection": {"secret": "FIDES_MARIA"}, "region": "CN",
         "retention": "imported", "collections": moved},
        {"id": "cache", "kind": "redis", "connection": {"secret": "FIDES_REDIS"}, "region": "CN",
         "retention": "imported", "collections": [
             {"name": "session", "key": f"{redis_prefix}session:{{customer_id}}", "redis_type": "hash", "fields": [
                 {"name": "customer_id", "references": customer_id},
                 {"name": "last_login", "type": "string", "categories": ["user.sensor"], "erasure": "nullify"},
                 {"name": "device", "type": "string", "categories": ["user.sensor"], "erasure": "nullify"}]},
             {"name": "cart", "key": f"{redis_prefix}cart:{{email}}", "redis_type": "string",
              "erasure": "delete_row", "fields": [
                  {"name": "email", "type": "string", "identity": "email", "categories": ["user.contact.email"]},
                  {"name": "items", "type": "string", "categories": ["user"]}]}]},
    ]
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
