"""Landups and a real Charter, each a uvicorn server on 127.0.0.1, wired only as a customer would be: Landups
holds the controller's secret and publishable keys and answers Charter's signed webhook; Charter holds the
published policy and data map (SQL connector on Landups' database, webhook for the ID photo files).

Charter's side is seeded with its own services (what an operator does with the `charter` CLI); Landups' side
only through its settings.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from sqlalchemy.orm import Session, sessionmaker

from charter.accounts.services import ApiKeyService, ControllerService, OriginService
from charter.core.crypto import Keyring
from charter.core.db import make_engine
from charter.core.settings import Settings as CharterSettings
from charter.datamap.services import DataMapStore
from charter.migrations import upgrade
from charter.outbox.services import Outbox
from charter.policy.services import PolicyStore
from charter.web.app import create_app as create_charter
from landups.settings import DEFAULT_POLICY, Settings
from landups.web.app import create_app as create_landups
from landups.web.context import AppState
from tests.live import free_port, live_server

CONTROLLER = "landups"
DATAMAP = DEFAULT_POLICY.parent / "datamap.yaml"


def datamap_for(landups_db_url: str, landups_url: str) -> str:
    """The example's map with the SQL kind of this database and the webhook at this server."""
    doc: dict[str, Any] = yaml.safe_load(DATAMAP.read_text(encoding="utf-8"))
    kind = "sqlite" if landups_db_url.startswith("sqlite") else "mysql"
    for system in doc["systems"]:
        for dataset in system["datasets"]:
            if dataset["kind"] == "mysql":
                dataset["kind"] = kind
            elif dataset["kind"] == "webhook":
                dataset["connection"]["url"] = f"{landups_url}/charter/webhook"
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


@dataclass
class Pair:
    landups_url: str
    charter_url: str
    landups: AppState
    charter_sessions: sessionmaker[Session]
    keyring: Keyring
    secret_key: str
    publishable_key: str
    codes_read: set[Any] = field(default_factory=set)

    def last_code(self) -> str:
        """The verification code of the one code message Charter's outbox holds that was not read before."""
        with self.charter_sessions() as session:
            outbox = Outbox(session, self.keyring)
            for message in outbox.messages(CONTROLLER):
                if message.template == "verification_code" and message.id not in self.codes_read:
                    self.codes_read.add(message.id)
                    found = re.search(r"(?<!\d)\d{6}(?!\d)", outbox.content(message).text)
                    assert found is not None
                    return found.group(0)
        raise AssertionError("no verification code was sent")

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.charter_url, headers={"Authorization": f"Bearer {self.secret_key}"},
                            timeout=30)

    def deliver(self) -> int:
        """Deliver the whole queue now (earlier tests on the same database may have left a backlog)."""
        total = 0
        while sent := self.landups.courier.run_once():
            total += sent
        return total

    def wait_request(self, request_id: str, token: str, until: tuple[str, ...] = ("completed",
                     "completed_with_held_items"), timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self.api() as api:
            while True:
                status: dict[str, Any] = api.get(f"/v1/requests/{request_id}",
                                                 headers={"Charter-Request-Token": token}).json()
                if status["status"] in until or time.monotonic() > deadline:
                    return status
                time.sleep(0.2)


def _seed_charter(sessions: sessionmaker[Session], landups_db_url: str, landups_url: str) -> tuple[str, str]:
    with sessions() as session, session.begin():
        ControllerService(session).create(CONTROLLER, "Landups", actor="test")
        keys = ApiKeyService(session)
        secret = keys.create(CONTROLLER, "landups-server", "secret", actor="test").token
        publishable = keys.create(CONTROLLER, "landups-banner", "publishable", actor="test").token
        OriginService(session).add(CONTROLLER, landups_url, actor="test")
        PolicyStore(session).publish(CONTROLLER, DEFAULT_POLICY.read_text(encoding="utf-8"),
                                     source="policy.yaml", actor="test")
        DataMapStore(session).publish(CONTROLLER, datamap_for(landups_db_url, landups_url),
                                      source="datamap.yaml", actor="test")
    return secret, publishable


@contextmanager
def landups_with_charter(landups_db_url: str, tmp_path: Path, *, smtp_port: int | None = None) -> Iterator[Pair]:
    """Both servers, wired. With `smtp_port`, Landups mails its survey invitations to that SMTP server."""
    charter_db = f"sqlite:///{tmp_path / 'charter.db'}"
    upgrade(charter_db)
    keyring = Keyring.generate()
    engine = make_engine(charter_db)
    sessions = sessionmaker(engine, expire_on_commit=False)
    landups_port, charter_port = free_port(), free_port()
    landups_url = f"http://127.0.0.1:{landups_port}"
    secret, publishable = _seed_charter(sessions, landups_db_url, landups_url)
    webhook_key = secrets.token_urlsafe(32)
    env = {"CHARTER_SECRET_LANDUPS_DB": landups_db_url, "CHARTER_SECRET_LANDUPS_HASH_KEY": secrets.token_hex(32),
           "CHARTER_SECRET_LANDUPS_WEBHOOK": webhook_key}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)   # Charter reads its secrets from the environment when it starts
    try:
        charter_app = create_charter(CharterSettings(
            database_url=charter_db, keyring=keyring.to_json(), keyring_file=tmp_path / "unused.json",
            outbox_worker=False, request_worker=True, sweep_interval=1.0,
            base_url=f"http://127.0.0.1:{charter_port}"))   # the links it mints point at this server
        with live_server(charter_app, port=charter_port) as charter_url:
            settings = Settings(database_url=landups_db_url, data_dir=tmp_path / "landups-data",
                                cookie_secure=False, charter_url=charter_url, charter_secret_key=secret,
                                charter_publishable_key=publishable, charter_webhook_key=webhook_key,
                                charter_delivery_seconds=0.5, base_url=landups_url,
                                smtp_host="127.0.0.1" if smtp_port else None, smtp_port=smtp_port or 25)
            landups_app = create_landups(settings)
            state: AppState = landups_app.state.landups
            try:
                with live_server(landups_app, port=landups_port):
                    yield Pair(landups_url, charter_url, state, sessions, keyring, secret, publishable)
            finally:
                state.courier.stop()
                state.engine.dispose()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        engine.dispose()
