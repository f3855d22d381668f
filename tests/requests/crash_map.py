"""The crash test's store: customers and addresses in PostgreSQL, orders in MariaDB, sessions in Redis."""

from __future__ import annotations

import datetime as dt

import redis
from sqlalchemy import Column, Date, Integer, MetaData, Numeric, String, Table, create_engine
from sqlalchemy.orm import Session, sessionmaker

from charter.core.crypto import Keyring
from charter.datamap.services import DataMapStore
from charter.policy.services import PolicyStore
from charter.requests.staff import StaffDesk
from charter.subjects.services import SubjectDirectory
from tests.factories import make_controller
from tests.requests.world import policy_with_recipient

PG = MetaData()
pg_customers = Table("customers", PG, Column("id", Integer, primary_key=True, autoincrement=False),
                     Column("email", String(200)), Column("name", String(100)), Column("birth_date", Date),
                     Column("address_id", Integer))
pg_addresses = Table("addresses", PG, Column("id", Integer, primary_key=True, autoincrement=False),
                     Column("street", String(200)))
MARIA = MetaData()
maria_orders = Table("orders", MARIA, Column("id", String(40), primary_key=True), Column("customer_id", Integer),
                     Column("total", Numeric(10, 2)), Column("note", String(200)))
maria_items = Table("order_items", MARIA, Column("order_id", String(40)), Column("gift_message", String(200)))


def crash_map(controller_id: str, redis_prefix: str) -> str:
    return f"""schema: charter.datamap/v1
controller: {controller_id}
version: "1"
retention_rules:
  - id: account_lifetime
    while: account_active
    reason: {{zh: 账户存续期间, en: While the account exists}}
  - id: tax_records
    days: 3650
    reason: {{zh: 税法要求保存十年, en: Kept ten years for the tax law}}
systems:
  - id: shop
    name: Shop
    datasets:
      - id: pg
        kind: postgresql
        connection: {{secret: CRASH_PG}}
        region: CN
        retention: account_lifetime
        collections:
          - name: customers
            fields:
              - {{name: id, type: integer, primary_key: true}}
              - {{name: email, type: string, categories: [contact.email], identity: email, erasure: nullify}}
              - {{name: name, type: string, length: 100, categories: [contact.name],
                 erasure: {{strategy: mask, value: "(erased)"}}}}
              - {{name: birth_date, type: date, categories: [profile.birth_date],
                 erasure: {{strategy: generalise, to: year}}}}
              - {{name: address_id, type: integer, references: {{field: addresses.id, direction: to}}}}
          - name: addresses
            fields:
              - {{name: id, type: integer, primary_key: true}}
              - {{name: street, type: string, categories: [contact.address], erasure: nullify}}
      - id: maria
        kind: mysql
        connection: {{secret: CRASH_MARIA}}
        region: CN
        retention: account_lifetime
        collections:
          - name: orders
            fields:
              - {{name: id, type: string, primary_key: true}}
              - {{name: customer_id, type: integer, references: pg.customers.id}}
              - {{name: total, type: number, categories: [orders.history],
                 erasure: {{strategy: keep, rule: tax_records}}}}
              - {{name: note, type: string, categories: [orders.history], erasure: nullify}}
          - name: order_items
            erasure: delete_row
            fields:
              - {{name: order_id, type: string, references: orders.id}}
              - {{name: gift_message, type: string, categories: [orders.history]}}
      - id: cache
        kind: redis
        connection: {{secret: CRASH_REDIS}}
        region: CN
        retention: account_lifetime
        collections:
          - name: session
            key: "{redis_prefix}session:{{customer_id}}"
            redis_type: hash
            fields:
              - {{name: customer_id, references: pg.customers.id}}
              - {{name: ip, type: string, categories: [device.ip], erasure: nullify}}
"""


def seed(pg_url: str, maria_url: str, redis_url: str, prefix: str, count: int) -> None:
    pg = create_engine(pg_url)
    maria = create_engine(maria_url)
    PG.create_all(pg)
    MARIA.create_all(maria)
    with pg.begin() as conn:
        conn.execute(pg_customers.insert(), [
            {"id": i, "email": f"p{i}@example.com", "name": f"Person {i}", "birth_date": dt.date(1990, 5, 17),
             "address_id": 1000 + i} for i in range(1, count + 1)])
        conn.execute(pg_addresses.insert(), [{"id": 1000 + i, "street": f"{i} Road"} for i in range(1, count + 1)])
    with maria.begin() as conn:
        conn.execute(maria_orders.insert(), [{"id": f"o{i}-{j}", "customer_id": i, "total": 10 + j, "note": "n"}
                                             for i in range(1, count + 1) for j in range(2)])
        conn.execute(maria_items.insert(), [{"order_id": f"o{i}-{j}", "gift_message": "hi"}
                                            for i in range(1, count + 1) for j in range(2)])
    client = redis.Redis.from_url(redis_url)
    for i in range(1, count + 1):
        client.hset(f"{prefix}session:{i}", mapping={"ip": f"10.0.0.{i % 250}"})
    client.close()
    pg.dispose()
    maria.dispose()


def crash_controller(sessions: sessionmaker[Session], keyring: Keyring, prefix: str, people: int) -> tuple[str, bytes]:
    """A controller with the crash map published and `people` subjects (p1@example.com …); (its id, the key its
    host signs assertions with)."""
    with sessions() as session, session.begin():
        cid = make_controller(session)
        PolicyStore(session).publish(cid, policy_with_recipient(cid), source="p.yaml", actor="test")
        DataMapStore(session).publish(cid, crash_map(cid, prefix), source="m.yaml", actor="test")
        key = StaffDesk(session, keyring).issue_assertion_key(cid, actor="test").value.encode()
        for i in range(1, people + 1):
            SubjectDirectory(session, keyring).resolve(cid, "email", f"p{i}@example.com", actor="test")
    return cid, key
