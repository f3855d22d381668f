"""Staff endpoints for requests on SQLite and PostgreSQL: approval, refusal only with a ground (nothing written
without one), the written late reason and the overdue list, manual tasks, retry, settings and the assertion key;
each answers another controller's key with 404 (or with its own, empty, lists)."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from charter.requests.verification import mint_assertion
from tests.requests.world import ANN_EMAIL, World
from tests.web.request_world import api_world, finish_manual, footprint, status, stranger, submit, verified

__all__ = ["api_world"]


def test_approval_then_refusal_needs_one_of_the_grounds_and_a_missing_ground_writes_nothing(
        client: TestClient, sessions: sessionmaker[Session], api_world: World) -> None:
    world = api_world
    headers = world.tenant.headers
    put = client.put("/v1/admin/request-settings", headers=headers, json={"needs_approval": True})
    assert put.status_code == 200 and put.json()["needs_approval"] is True
    rid, token = verified(client, world, "access")
    assert status(client, world, rid, token)["status"] == "identity_verified"
    before = footprint(sessions, world.cid)
    for body, field in (({}, "ground"), ({"ground": "it_is_friday"}, "ground")):
        answer = client.post(f"/v1/admin/requests/{rid}/refuse", headers=headers, json=body)
        assert answer.status_code == 400 and answer.json()["error"]["field"] == field
        assert "national_security" in answer.json()["error"]["fix"]
    assert footprint(sessions, world.cid) == before
    assert status(client, world, rid, token)["status"] == "identity_verified"
    refused = client.post(f"/v1/admin/requests/{rid}/refuse", headers=headers,
                          json={"ground": "national_security", "note": "Ministry order 12"})
    assert refused.status_code == 200 and refused.json()["status"] == "refused"
    seen = status(client, world, rid, token)
    assert seen["refusal_ground"] == "national_security" and seen["refusal_label"]
    assert client.post(f"/v1/admin/requests/{rid}/approve", headers=headers).status_code == 409
    rid, token = verified(client, world, "access")
    approved = client.post(f"/v1/admin/requests/{rid}/approve", headers=headers)
    assert approved.status_code == 200, approved.text
    assert world.worker.wait_idle(30)
    finish_manual(client, world)
    assert status(client, world, rid, token)["status"] == "completed"


def test_every_admin_endpoint_answers_another_controllers_key_with_not_found(
        client: TestClient, sessions: sessionmaker[Session], api_world: World) -> None:
    world = api_world
    rid, _token = verified(client, world, "erasure")
    manual = client.get("/v1/admin/manual-tasks", headers=world.tenant.headers).json()
    assert manual and manual[0]["request_id"] == rid
    other = stranger(sessions)
    before = footprint(sessions, world.cid)
    for method, path, body in (
            ("GET", f"/v1/admin/requests/{rid}", None), ("POST", f"/v1/admin/requests/{rid}/approve", None),
            ("POST", f"/v1/admin/requests/{rid}/refuse", {"ground": "national_security"}),
            ("POST", f"/v1/admin/requests/{rid}/late-reason", {"reason": "busy"}),
            ("POST", f"/v1/admin/requests/{rid}/retry", None),
            ("POST", f"/v1/admin/manual-tasks/{manual[0]['id']}/complete", {"rows_affected": 1})):
        answer = client.request(method, path, json=body, headers=other.headers)
        assert answer.status_code == 404, (path, answer.text)
    for path in ("/v1/admin/requests", "/v1/admin/manual-tasks", "/v1/admin/appeals", "/v1/admin/requests-overdue"):
        assert client.get(path, headers=other.headers).json() == [], path
    assert client.get("/v1/admin/request-settings", headers=other.headers).json()["login_webhook_url"] is None
    assert footprint(sessions, world.cid) == before
    # The publishable key is not a staff key.
    assert client.get("/v1/admin/requests", headers={"Authorization": f"Bearer {world.tenant.publishable}"}) \
        .status_code in (401, 403)
    finish_manual(client, world)


def test_late_reason_and_the_overdue_list(client: TestClient, sessions: sessionmaker[Session],
                                          api_world: World) -> None:
    world = api_world
    headers = world.tenant.headers
    rid = submit(client, world, "access")["request_id"]
    empty = client.post(f"/v1/admin/requests/{rid}/late-reason", headers=headers, json={"reason": "  "})
    assert empty.status_code == 400 and empty.json()["error"]["field"] == "reason"
    later = (dt.date.today() + dt.timedelta(days=90)).isoformat()
    overdue = client.get("/v1/admin/requests-overdue", headers=headers, params={"today": later}).json()
    assert [r["id"] for r in overdue] == [rid] and overdue[0]["is_overdue"]
    assert client.get("/v1/admin/requests-overdue", headers=headers).json() == []
    recorded = client.post(f"/v1/admin/requests/{rid}/late-reason", headers=headers,
                           json={"reason": "The archive is being restored."})
    assert recorded.status_code == 200 and recorded.json()["late_reason_recorded"]
    listed = client.get("/v1/admin/requests", headers=headers, params={"only_open": True}).json()
    assert [r["id"] for r in listed] == [rid] and listed[0]["tasks"] == []


def test_settings_assertion_key_and_a_host_assertion_verifying_at_once(
        client: TestClient, sessions: sessionmaker[Session], api_world: World) -> None:
    world = api_world
    headers = world.tenant.headers
    bad = client.put("/v1/admin/request-settings", headers=headers,
                     json={"login_webhook_url": "http://host.example/disable"})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "url"
    assert client.get("/v1/admin/request-settings", headers=headers).json()["login_webhook_url"] is None
    issued = client.post("/v1/admin/request-settings/assertion-key", headers=headers)
    assert issued.status_code == 201
    key = issued.json()["assertion_key"].encode()
    assert client.get("/v1/admin/request-settings", headers=headers).json()["has_assertion_key"]
    assertion = mint_assertion(key, world.cid, "email", ANN_EMAIL)
    answer = client.post("/v1/requests", headers=headers, json={"kind": "restriction", "assertion": assertion})
    assert answer.status_code == 202 and answer.json()["verification"] == "verified"
    assert world.worker.wait_idle(30)
    assert status(client, world, answer.json()["request_id"], answer.json()["token"])["status"] == "completed"
    replay = client.post("/v1/requests", headers=headers, json={"kind": "restriction", "assertion": assertion})
    assert replay.status_code == 400 and "used already" in replay.json()["error"]["message"]
