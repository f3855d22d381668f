"""The shop world behind the HTTP API: the app's request queue is this test's in-process worker (whose connector
pool reaches the test's own shop database), and helpers to drive a request through HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from charter.audit.models import AuditEvent
from charter.core.crypto import Keyring
from charter.datamap.services import DataMapStore
from charter.outbox.models import OutboxMessage
from charter.requests.models import DataRequest, RequestTask, VerificationChallenge
from tests.factories import Tenant, make_tenant
from tests.requests.world import ANN_EMAIL, World, shop_map_text, shop_world


@pytest.fixture
def api_world(client: TestClient, sessions: sessionmaker[Session], keyring: Keyring,
              tmp_path: Path) -> Iterator[World]:
    with shop_world(sessions, keyring, tmp_path) as world:
        previous = client.app.state.request_queue  # type: ignore[attr-defined]
        client.app.state.request_queue = world.worker  # type: ignore[attr-defined]
        try:
            yield world
        finally:
            client.app.state.request_queue = previous  # type: ignore[attr-defined]


def without_manual_store(world: World) -> None:
    """The shop's map without its manual (staff-run) dataset, so requests finish on their own."""
    with world.sessions() as s, s.begin():
        DataMapStore(s).publish(world.cid, shop_map_text(world.cid, keep_manual=False, version="2"),
                                source="datamap.yaml", actor="test")


def stranger(sessions: sessionmaker[Session]) -> Tenant:
    """Another controller, with keys of its own: everything of the world's must read as not found to it."""
    return make_tenant(sessions)


def submit(client: TestClient, world: World, kind: str, *, value: str = ANN_EMAIL, id_kind: str = "email",
           **params: Any) -> dict[str, Any]:
    r = client.post("/v1/requests", headers=world.tenant.headers, json={
        "kind": kind, "identity": {"kind": id_kind, "value": value}, "language": "en", "params": params or None})
    assert r.status_code == 202, r.text
    body: dict[str, Any] = r.json()
    return body


def verified(client: TestClient, world: World, kind: str, **params: Any) -> tuple[str, str]:
    """Submit as Ann and verify with the code she was sent; (request id, token)."""
    rid = submit(client, world, kind, **params)["request_id"]
    r = client.post(f"/v1/requests/{rid}/verify", headers=world.tenant.headers, json={"code": world.last_code()})
    assert r.status_code == 200, r.text
    assert world.worker.wait_idle(30)
    return rid, r.json()["token"]


def finish_manual(client: TestClient, world: World) -> None:
    for task in client.get("/v1/admin/manual-tasks", headers=world.tenant.headers).json():
        r = client.post(f"/v1/admin/manual-tasks/{task['id']}/complete", headers=world.tenant.headers,
                        json={"rows_affected": 1})
        assert r.status_code == 200, r.text
    assert world.worker.wait_idle(30)


def status(client: TestClient, world: World, rid: str, token: str) -> dict[str, Any]:
    r = client.get(f"/v1/requests/{rid}", headers={**world.tenant.headers, "Charter-Request-Token": token})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def footprint(sessions: sessionmaker[Session], cid: str) -> tuple[int, ...]:
    """How many requests, tasks, challenges, messages and audit events the controller has: 'nothing written'."""
    with sessions() as s:
        return tuple(s.execute(select(func.count()).select_from(model).where(model.controller_id == cid))
                     .scalar_one() for model in (DataRequest, RequestTask, VerificationChallenge, OutboxMessage,
                                                 AuditEvent))
