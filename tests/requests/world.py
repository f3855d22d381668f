"""A controller with the shop policy and data map, its tables seeded for real, and a worker to run requests."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.orm import Session, sessionmaker

from charter.core.crypto import Keyring
from charter.core.secrets import Secrets
from charter.datamap.connections import ConnectorPool
from charter.datamap.services import DataMapStore
from charter.outbox.models import OutboxMessage
from charter.outbox.services import Outbox
from charter.policy.services import PolicyStore
from charter.requests.runner import TaskRunner
from charter.requests.services import RequestService
from charter.requests.tasks import InProcessWorker
from charter.subjects.services import SubjectDirectory
from tests.connectors.shop_tables import HASH_KEY, shop_database
from tests.datamap.maps import shop_policy_text, shop_text
from tests.factories import Tenant, make_tenant

ANN_EMAIL, ANN_PHONE = "ann@example.com", "+8613800138000"


def shop_map_text(controller_id: str, *, kind: str = "sqlite", redis_prefix: str | None = None,
                  keep_manual: bool = True, version: str = "1") -> str:
    """The shop fixture for this controller: SQL on `kind`, Redis only when a prefix is given, no webhook store."""
    doc: dict[str, Any] = yaml.safe_load(shop_text(controller_id))
    doc["version"] = version
    shop = doc["systems"][0]["datasets"]
    shop[0]["kind"] = kind
    if redis_prefix is None:
        del shop[1]
    else:
        shop[1]["collections"][0]["key"] = f"{redis_prefix}session:{{customer_id}}"
    support = doc["systems"][1]["datasets"]
    doc["systems"][1]["datasets"] = [d for d in support if d["kind"] == "manual" and keep_manual]
    if not doc["systems"][1]["datasets"]:
        del doc["systems"][1]
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


def policy_with_recipient(controller_id: str, *, jurisdictions: list[str] | None = None,
                          grounds: list[str] | None = None) -> str:
    doc: dict[str, Any] = yaml.safe_load(shop_policy_text(controller_id))
    doc["recipients"][0]["categories"] = ["contact.email"]
    if jurisdictions:
        doc["jurisdictions"] = jurisdictions
        if "HK" in jurisdictions:
            _add_traditional(doc)
    if grounds is not None:
        doc["refusal_grounds"] = grounds
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


def _add_traditional(node: Any) -> None:
    """An HK policy needs every text in Traditional Chinese too (the test reuses the Simplified text)."""
    if isinstance(node, dict):
        if "zh" in node and "en" in node and "zh_tw" not in node:
            node["zh_tw"] = node["zh"]
        for value in node.values():
            _add_traditional(value)
    elif isinstance(node, list):
        for value in node:
            _add_traditional(value)


@dataclass
class World:
    tenant: Tenant
    sessions: sessionmaker[Session]
    keyring: Keyring
    shop_url: str
    worker: InProcessWorker
    ann: str
    """Ann's subject id (email and phone linked)."""

    @property
    def cid(self) -> str:
        return self.tenant.controller_id

    def service(self, session: Session) -> RequestService:
        return RequestService(session, self.keyring, queue=self.worker)

    def last_code(self) -> str:
        with self.sessions() as session:
            outbox = Outbox(session, self.keyring)
            for message in outbox.messages(self.cid):
                if message.template == "verification_code":
                    text = outbox.content(message).text
                    found = re.search(r"(?<!\d)\d{6}(?!\d)", text)
                    assert found is not None
                    return found.group(0)
        raise AssertionError("no code was sent")

    def templates(self) -> list[str]:
        with self.sessions() as session:
            rows = session.query(OutboxMessage).filter(OutboxMessage.controller_id == self.cid).all()
            return sorted(r.template for r in rows)

    def submit_verified(self, kind: str, **params: Any) -> tuple[str, str]:
        """Submit as Ann by email, verify with the code sent; returns (request id, token)."""
        with self.sessions() as session, session.begin():
            submitted = self.service(session).submit(self.cid, kind=kind, identity_kind="email",
                                                     identity_value=ANN_EMAIL, language="en",
                                                     params=params or None, actor="test")
            request_id = submitted.request.id
        with self.sessions() as session, session.begin():
            token = self.service(session).verify(self.cid, request_id, self.last_code(), actor="test")
        assert self.worker.wait_idle(30)
        return request_id, token


def publish_world(sessions: sessionmaker[Session], keyring: Keyring, shop_url: str, *, kind: str,
                  redis_prefix: str | None = None, jurisdictions: list[str] | None = None) -> tuple[Tenant, str]:
    tenant = make_tenant(sessions)
    cid = tenant.controller_id
    with sessions() as session, session.begin():
        PolicyStore(session).publish(cid, policy_with_recipient(cid, jurisdictions=jurisdictions),
                                     source="policy.yaml", actor="test")
        DataMapStore(session).publish(cid, shop_map_text(cid, kind=kind, redis_prefix=redis_prefix),
                                      source="datamap.yaml", actor="test")
        directory = SubjectDirectory(session, keyring)
        ann = directory.resolve(cid, "email", ANN_EMAIL, actor="test")
        directory.link(cid, ann.id, "phone", ANN_PHONE, actor="test")
    return tenant, ann.id


def shop_secrets(shop_url: str, redis_url: str | None = None) -> Secrets:
    env = {"CHARTER_SECRET_SHOP_DB": shop_url, "CHARTER_SECRET_SHOP_HASH_KEY": HASH_KEY.decode()}
    if redis_url:
        env["CHARTER_SECRET_SHOP_REDIS"] = redis_url
    return Secrets.from_environment(env)


@contextmanager
def shop_world(sessions: sessionmaker[Session], keyring: Keyring, tmp_path: Path, *, backend: str = "sqlite",
               jurisdictions: list[str] | None = None) -> Iterator[World]:
    with shop_database(backend, tmp_path) as url, ConnectorPool(shop_secrets(url)) as pool:
        kind = {"sqlite": "sqlite", "postgresql": "postgresql", "mariadb": "mysql"}[backend]
        tenant, ann = publish_world(sessions, keyring, url, kind=kind, jurisdictions=jurisdictions)
        worker = InProcessWorker(TaskRunner(sessions, keyring, pool))
        worker.start()
        try:
            yield World(tenant, sessions, keyring, url, worker, ann)
        finally:
            worker.stop()
