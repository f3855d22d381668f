"""What the host reports and polls, on SQLite and PostgreSQL: disclosures (and the erasure notice to the
recipient, acknowledged through its link), automated decisions, account closures; the login-disable webhook of a
cancellation received by a real local server that checks the signature; another controller's key gets 404."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from charter.connectors.webhook import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, verify_signature
from charter.disclosures.models import Disclosure
from charter.requests.internal import ack_token
from charter.requests.models import AutomatedDecision
from tests.live import live_server
from tests.requests.world import World
from tests.web.request_world import api_world, finish_manual, status, stranger, verified

__all__ = ["api_world"]

DECISION = {"kind": "credit_limit", "logic_version": "1", "outcome": "declined", "inputs": {},
            "explanation": {"zh": "原因", "en": "Reason"}}


def _count(sessions: sessionmaker[Session], model: Any, cid: str) -> int:
    with sessions() as s:
        return int(s.execute(select(func.count()).select_from(model).where(model.controller_id == cid)).scalar_one())


def test_a_disclosure_reaches_the_bundle_and_the_recipient_is_told_of_erasure_and_acknowledges(
        client: TestClient, sessions: sessionmaker[Session], api_world: World) -> None:
    world = api_world
    headers = world.tenant.headers
    other = stranger(sessions)
    body = {"subject_id": world.ann, "recipient": "mailer", "categories": ["contact.email"], "purpose": "marketing"}
    assert client.post("/v1/disclosures", headers=other.headers, json=body).status_code == 404
    assert client.post("/v1/automated-decisions", headers=other.headers,
                       json={"subject_id": world.ann, **DECISION}).status_code == 404
    assert _count(sessions, Disclosure, other.controller_id) == _count(sessions, AutomatedDecision,
                                                                       other.controller_id) == 0
    bad = client.post("/v1/disclosures", headers=headers, json={**body, "categories": []})
    assert bad.status_code == 422 and _count(sessions, Disclosure, world.cid) == 0
    assert client.post("/v1/disclosures", headers=headers, json=body).status_code == 201
    rid, token = verified(client, world, "access")
    finish_manual(client, world)
    bundle = client.get(f"/v1/requests/{rid}/bundle", params={"format": "json"},
                        headers={**headers, "Charter-Request-Token": token}).json()
    assert [(r["id"], r["categories"]) for r in bundle["recipients"]] == [("mailer", ["Email address"])]
    rid, token = verified(client, world, "erasure")
    finish_manual(client, world)
    seen = status(client, world, rid, token)
    assert [(r["recipient"], r["action"], r["acknowledged_at"]) for r in seen["recipients"]] == [
        ("mailer", "erasure", None)]
    assert client.post("/v1/recipient-acks/not-a-token").status_code == 404
    link = ack_token(world.keyring, f"{rid}:mailer")
    acked = client.post(f"/v1/recipient-acks/{link}")
    assert acked.status_code == 200 and acked.json()["action"] == "erasure"
    assert status(client, world, rid, token)["recipients"][0]["acknowledged_at"] is not None


def test_cancellation_calls_the_login_webhook_signed_and_shows_in_account_closures(
        client: TestClient, sessions: sessionmaker[Session], api_world: World) -> None:
    world = api_world
    headers = world.tenant.headers
    received: list[tuple[dict[str, Any], bool, str | None]] = []
    key: list[bytes] = []
    receiver = FastAPI()

    @receiver.post("/disable-login")
    async def disable_login(request: Request) -> Response:
        raw = await request.body()
        received.append((json.loads(raw), verify_signature(key[0], request.headers.get(SIGNATURE_HEADER), raw),
                         request.headers.get(IDEMPOTENCY_HEADER)))
        return Response(status_code=204)

    with live_server(receiver) as url:
        put = client.put("/v1/admin/request-settings", headers=headers,
                         json={"login_webhook_url": f"{url}/disable-login"})
        assert put.status_code == 200, put.text
        key.append(put.json()["login_webhook_key"].encode())
        rid, token = verified(client, world, "cancellation")
        finish_manual(client, world)
    assert received == [({"event": "account.cancelled", "subject_id": world.ann, "request_id": rid}, True,
                         f"{rid}:disable_login")]
    assert status(client, world, rid, token)["status"] == "completed_with_held_items"
    staff = client.get(f"/v1/admin/requests/{rid}", headers=headers).json()
    assert staff["tasks"][0]["operation"] == "disable_login" and staff["tasks"][0]["record"]["webhook"] is True
    closures = client.get("/v1/account-closures", headers=headers).json()
    assert [(c["request_id"], c["subject_id"]) for c in closures] == [(rid, world.ann)]
    since = closures[0]["since"]
    assert client.get("/v1/account-closures", headers=headers, params={"since": since}).json() == []
    assert client.get("/v1/account-closures", headers=stranger(sessions).headers).json() == []


def test_a_login_webhook_that_refuses_fails_the_cancellation_before_anything_is_erased(
        client: TestClient, sessions: sessionmaker[Session], api_world: World) -> None:
    world = api_world
    receiver = FastAPI()

    @receiver.post("/disable-login")
    async def refuse() -> Response:
        return Response(status_code=500)

    with live_server(receiver) as url:
        client.put("/v1/admin/request-settings", headers=world.tenant.headers,
                   json={"login_webhook_url": f"{url}/disable-login"})
        rid, token = verified(client, world, "cancellation")
    seen = status(client, world, rid, token)
    assert seen["status"] == "failed" and "500" in seen["error"]
    staff = client.get(f"/v1/admin/requests/{rid}", headers=world.tenant.headers).json()
    assert {t["status"] for t in staff["tasks"][1:]} == {"pending"}
