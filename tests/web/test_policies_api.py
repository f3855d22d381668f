"""The policy endpoints through HTTP, on a real database, with tenant isolation checked for each."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from charter.audit.services import AuditLog
from charter.policy.models import PolicyVersionRecord
from tests.factories import Tenant, make_tenant, policy_text

YAML = {"Content-Type": "application/yaml"}


def _publish(client: TestClient, tenant: Tenant, text: str) -> tuple[int, dict[str, object]]:
    r = client.post("/v1/policies", content=text.encode(), headers={**tenant.headers, **YAML})
    return r.status_code, r.json()


def _count(sessions: sessionmaker[Session], cid: str) -> int:
    with sessions() as s:
        return s.execute(select(func.count()).select_from(PolicyVersionRecord)
                         .where(PolicyVersionRecord.controller_id == cid)).scalar_one()


def test_publish_is_immutable_and_idempotent(client: TestClient, sessions: sessionmaker[Session]) -> None:
    t = make_tenant(sessions)
    status, body = _publish(client, t, policy_text(t.controller_id))
    assert status == 201
    assert body["created"] is True
    assert str(body["content_hash"]).startswith("sha256:")
    again_status, again = _publish(client, t, policy_text(t.controller_id))
    assert (again_status, again["created"], again["content_hash"]) == (200, False, body["content_hash"])
    status, err = _publish(client, t, policy_text(t.controller_id, extra_purpose=True))
    assert status == 409
    assert "immutable" in str(err["error"])
    assert _count(sessions, t.controller_id) == 1
    with sessions() as s:
        assert AuditLog(s).verify(t.controller_id).ok


def test_json_body_is_accepted(client: TestClient, sessions: sessionmaker[Session]) -> None:
    import yaml  # noqa: PLC0415

    t = make_tenant(sessions)
    doc = yaml.safe_load(policy_text(t.controller_id))
    r = client.post("/v1/policies", json=doc, headers=t.headers)
    assert r.status_code == 201, r.text


def test_an_invalid_policy_is_refused_with_located_problems(
        client: TestClient, sessions: sessionmaker[Session]) -> None:
    t = make_tenant(sessions)
    text = policy_text(t.controller_id).replace("- contact.email\n", "- contact.mail\n", 1)
    status, body = _publish(client, t, text)
    assert status == 400
    problems = body["error"]["problems"]  # type: ignore[index]
    assert problems
    assert any("contact.mail" in p["message"] and p["line"] for p in problems)
    assert _count(sessions, t.controller_id) == 0


def test_list_get_diff_render_promises(client: TestClient, sessions: sessionmaker[Session]) -> None:
    t = make_tenant(sessions)
    assert _publish(client, t, policy_text(t.controller_id, "1.0"))[0] == 201
    assert _publish(client, t, policy_text(t.controller_id, "2.0", extra_purpose=True,
                                           effective="2024-06-01"))[0] == 201
    versions = client.get("/v1/policies", headers=t.headers).json()
    assert [v["version"] for v in versions] == ["1.0", "2.0"]
    doc = client.get("/v1/policies/2.0", headers=t.headers).json()
    assert any(p["id"] == "surveys" for p in doc["document"]["purposes"])
    diff = client.get("/v1/policies/diff", params={"from": "1.0", "to": "2.0"}, headers=t.headers).json()
    surveys = [c for c in diff["changes"] if "surveys" in c["purposes"]]
    assert surveys
    assert surveys[0]["materiality"] == "needs_fresh_consent"
    html = client.get("/v1/policies/1.0/render", params={"lang": "en"}, headers=t.headers)
    assert html.headers["content-type"].startswith("text/html")
    assert "What we collect" in html.text
    md = client.get("/v1/policies/1.0/render", params={"lang": "zh", "format": "markdown"}, headers=t.headers)
    assert "我们收集的信息" in md.text
    assert client.get("/v1/policies/1.0/render", params={"lang": "fr"}, headers=t.headers).status_code == 400
    assert client.get("/v1/policies/1.0/promises", headers=t.headers).status_code == 200


def test_no_key_bad_key_and_publishable_key(client: TestClient, sessions: sessionmaker[Session]) -> None:
    t = make_tenant(sessions)
    assert client.get("/v1/policies").status_code == 401
    assert client.get("/v1/policies", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    r = client.get("/v1/policies", headers={"Authorization": f"Bearer {t.publishable}"})
    assert r.status_code == 403
    assert "secret key" in r.json()["error"]["fix"]


ENDPOINTS = [
    ("get", "/v1/policies/1.0"),
    ("get", "/v1/policies/1.0/render"),
    ("get", "/v1/policies/1.0/promises"),
    ("get", "/v1/policies/diff?from=1.0&to=1.0"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_another_controllers_versions_are_invisible(
        client: TestClient, sessions: sessionmaker[Session], method: str, path: str) -> None:
    owner, stranger = make_tenant(sessions), make_tenant(sessions)
    assert _publish(client, owner, policy_text(owner.controller_id))[0] == 201
    assert client.request(method, path, headers=owner.headers).status_code == 200
    assert client.request(method, path, headers=stranger.headers).status_code == 404


def test_another_controller_cannot_list_or_publish_for_the_owner(
        client: TestClient, sessions: sessionmaker[Session]) -> None:
    owner, stranger = make_tenant(sessions), make_tenant(sessions)
    assert _publish(client, owner, policy_text(owner.controller_id))[0] == 201
    assert client.get("/v1/policies", headers=stranger.headers).json() == []
    status, body = _publish(client, stranger, policy_text(owner.controller_id, "9.9"))
    assert status == 400
    assert body["error"]["field"] == "controller.id"  # type: ignore[index]
    assert _count(sessions, owner.controller_id) == 1
