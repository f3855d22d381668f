"""A small host estate for retention, incident and operations tests: a SQL database (SQLite, PostgreSQL or MariaDB)
with accounts and visit logs, optionally a Redis session cache, its data map and policy published for a new
controller, and the people registered in Charter. Times are relative to now, so the rules bite as in production.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, create_engine, select
from sqlalchemy.orm import Session, sessionmaker

from charter.accounts.services import ApiKeyService
from charter.core.crypto import Keyring
from charter.core.secrets import Secrets
from charter.datamap.services import DataMapStore
from charter.policy.services import PolicyStore
from charter.subjects.services import SubjectDirectory
from tests.connectors.shop_tables import _fresh
from tests.factories import make_controller
from tests.policy.policies import minimal_text
from tests.services import fresh_redis_prefix

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
LONG_AGO = (NOW - dt.timedelta(days=400)).replace(tzinfo=None)
LAST_WEEK = (NOW - dt.timedelta(days=5)).replace(tzinfo=None)
YESTERDAY = (NOW - dt.timedelta(days=1)).replace(tzinfo=None)
HASH_KEY = "an estate hash key of 32 bytes.."

metadata = MetaData()
accounts = Table("accounts", metadata, Column("id", Integer, primary_key=True, autoincrement=False),
                 Column("email", String(200)), Column("phone", String(32)), Column("name", String(100)),
                 Column("created_at", DateTime), Column("closed_at", DateTime))
visits = Table("visits", metadata, Column("id", Integer, primary_key=True, autoincrement=False),
               Column("account_id", Integer), Column("ip", String(64)), Column("created_at", DateTime))


@dataclass(frozen=True)
class Person:
    account: int
    email: str
    phone: str | None
    name: str
    closed_at: dt.datetime | None = None


PEOPLE = (
    Person(1, "ann@example.com", "+8613800138000", "Ann"),
    Person(2, "bob@example.com", None, "Bob", closed_at=LONG_AGO),
    Person(3, "cai@example.com", "+8613900139000", "Cai", closed_at=LAST_WEEK),
    Person(4, "dan@example.com", None, "Dan"),
)
# (id, account, created_at): visits of every person, some older than the 180-day rule.
VISITS = [(10 * p.account + i, p.account, LONG_AGO if i < 2 else YESTERDAY) for p in PEOPLE for i in range(3)]


CATEGORIES = {"contact.phone": ("手机号码", "Phone number"), "contact.name": ("姓名", "Name"),
              "device.ip": ("IP地址", "IP address")}

DATAMAP = """
schema: charter.datamap/v1
controller: {controller}
version: "1"
retention_rules:
  - id: account_lifetime
    while: account_active
    after_days: 30
    reason: {{zh: 账户存续期间及注销后30天, en: While the account exists and 30 days after}}
  - id: visit_logs
    days: 180
    reason: {{zh: 访问日志保存180天, en: Visit logs are kept 180 days}}
systems:
  - id: web
    name: Web shop
    datasets:
      - id: accounts_db
        kind: {kind}
        connection: {{secret: {secret}}}
        hash_key: {{secret: {hash_secret}}}
        region: CN
        retention: account_lifetime
        collections:
          - name: accounts
            collected_at: created_at
            ended_at: closed_at
            fields:
              - {{name: id, type: integer, primary_key: true}}
              - {{name: email, type: string, categories: [contact.email], identity: email, erasure: hash}}
              - {{name: phone, type: string, categories: [contact.phone], identity: phone, erasure: nullify}}
              - {{name: name, type: string, length: 100, categories: [contact.name],
                 erasure: {{strategy: mask, value: "(erased)"}}}}
              - {{name: created_at, type: datetime}}
              - {{name: closed_at, type: datetime}}
      - id: logs_db
        kind: {kind}
        connection: {{secret: {secret}}}
        region: CN
        retention: visit_logs
        collections:
          - name: visits
            collected_at: created_at
            erasure: delete_row
            fields:
              - {{name: id, type: integer, primary_key: true}}
              - {{name: account_id, type: integer, references: accounts_db.accounts.id}}
              - {{name: ip, type: string, categories: [device.ip]}}
              - {{name: created_at, type: datetime}}
"""

REDIS_DATASET = """
      - id: cache
        kind: redis
        connection: {{secret: {secret}}}
        region: CN
        retention: visit_logs
        collections:
          - name: sessions
            key: "{prefix}session:{{account_id}}"
            redis_type: hash
            collected_at: seen_at
            erasure: delete_row
            fields:
              - {{name: account_id, references: accounts_db.accounts.id}}
              - {{name: ip, type: string, categories: [device.ip]}}
              - {{name: seen_at, type: datetime}}
"""


@dataclass
class Estate:
    controller_id: str
    url: str
    secrets: Secrets
    subjects: dict[str, str] = field(default_factory=dict)
    """Email → Charter subject id."""
    redis_url: str | None = None
    redis_prefix: str = ""

    def rows(self, table: Table) -> list[dict[str, Any]]:
        engine = create_engine(self.url)
        try:
            with engine.connect() as conn:
                return [dict(r) for r in conn.execute(select(table).order_by(table.c.id)).mappings()]
        finally:
            engine.dispose()

    def session_keys(self) -> list[str]:
        assert self.redis_url is not None
        client = redis.Redis.from_url(self.redis_url, decode_responses=True)
        try:
            return sorted(k.removeprefix(self.redis_prefix) for k in client.scan_iter(match=self.redis_prefix + "*"))
        finally:
            client.close()


SURVEYS = {"id": "surveys", "label": {"zh": "问卷", "en": "Surveys"},
           "description": {"zh": "邀请您参加问卷调查", "en": "Invite you to surveys"}, "legal_basis": "consent",
           "is_essential": False, "consent": "general", "categories": ["contact.email"],
           "retention": {"days": 180, "text": {"zh": "六个月", "en": "Six months"}}}


def policy_text(controller_id: str, version: str = "1.0", *, effective: dt.date | None = None,
                with_surveys: bool = False) -> str:
    """The estate's policy; a later version may take effect on `effective` and add a consent purpose."""
    doc: dict[str, Any] = yaml.safe_load(minimal_text())
    doc["controller"]["id"] = controller_id
    doc["version"] = version
    if effective is not None:
        doc["effective"] = effective
    if with_surveys:
        doc["purposes"].append(SURVEYS)
    for category, (zh, en) in CATEGORIES.items():
        doc["categories"].append({"id": category, "label": {"zh": zh, "en": en}})
        doc["purposes"][0]["categories"].append(category)
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


def datamap_text(controller_id: str, kind: str, secret: str, *, redis_secret: str | None = None,
                 redis_prefix: str = "") -> str:
    text = DATAMAP.format(controller=controller_id, kind=kind, secret=secret, hash_secret=secret + "_HASH")
    if redis_secret:
        text += REDIS_DATASET.format(secret=redis_secret, prefix=redis_prefix)
    return text


def _seed(url: str) -> None:
    engine = create_engine(url)
    try:
        metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(accounts.insert(), [
                {"id": p.account, "email": p.email, "phone": p.phone, "name": p.name, "created_at": LONG_AGO,
                 "closed_at": p.closed_at} for p in PEOPLE])
            conn.execute(visits.insert(), [{"id": i, "account_id": a, "ip": f"10.0.{a}.{i}", "created_at": at}
                                           for i, a, at in VISITS])
    finally:
        engine.dispose()


def _seed_redis(url: str, prefix: str) -> None:
    client = redis.Redis.from_url(url, decode_responses=True)
    try:
        for p in PEOPLE:
            seen = LONG_AGO if p.account % 2 else YESTERDAY
            client.hset(f"{prefix}session:{p.account}", mapping={"ip": f"10.9.0.{p.account}",
                                                                  "seen_at": seen.isoformat()})
    finally:
        client.close()


def register(sessions: sessionmaker[Session], keyring: Keyring, controller_id: str) -> dict[str, str]:
    """Every person of the estate as a Charter subject (email, and phone when they have one)."""
    with sessions() as session, session.begin():
        directory = SubjectDirectory(session, keyring)
        found = {}
        for p in PEOPLE:
            subject = directory.resolve(controller_id, "email", p.email, actor="test")
            if p.phone:
                directory.link(controller_id, subject.id, "phone", p.phone, actor="test")
            found[p.email] = subject.id
        return found


def publish(session: Session, controller_id: str, datamap: str) -> None:
    PolicyStore(session).publish(controller_id, policy_text(controller_id), source="policy.yaml", actor="test")
    DataMapStore(session).publish(controller_id, datamap, source="datamap.yaml", actor="test")


@contextmanager
def estate(sessions: sessionmaker[Session], keyring: Keyring, tmp_path: Path, backend: str = "sqlite", *,
           with_redis: bool = False) -> Iterator[Estate]:
    """A seeded host estate and a controller whose published data map describes it."""
    with _fresh(backend, tmp_path) as url, _maybe_redis(with_redis) as (redis_url, prefix):
        _seed(url)
        secret = f"EST_{uuid.uuid4().hex[:8].upper()}"
        environ = {f"CHARTER_SECRET_{secret}": url, f"CHARTER_SECRET_{secret}_HASH": HASH_KEY}
        redis_secret = None
        if redis_url is not None:
            _seed_redis(redis_url, prefix)
            redis_secret = secret + "_REDIS"
            environ[f"CHARTER_SECRET_{redis_secret}"] = redis_url
        with sessions() as session, session.begin():
            cid = make_controller(session, "Estate Co")
            publish(session, cid, datamap_text(cid, backend if backend != "mariadb" else "mysql", secret,
                                               redis_secret=redis_secret, redis_prefix=prefix))
        yield Estate(cid, url, Secrets(environ=environ), register(sessions, keyring, cid), redis_url, prefix)


@contextmanager
def _maybe_redis(wanted: bool) -> Iterator[tuple[str | None, str]]:
    if not wanted:
        yield None, ""
        return
    with fresh_redis_prefix() as (url, prefix):
        yield url, prefix


def secret_headers(sessions: sessionmaker[Session], controller_id: str) -> dict[str, str]:
    """A secret API key of the estate's controller, as request headers."""
    with sessions() as session, session.begin():
        token = ApiKeyService(session).create(controller_id, "server", "secret", actor="test").token
    return {"Authorization": f"Bearer {token}"}


def use_secrets(monkeypatch: pytest.MonkeyPatch, place: Estate) -> None:
    """Put the estate's store secrets in the environment, where the server reads them."""
    for name, value in place.secrets.environ.items():
        monkeypatch.setenv(name, value)
