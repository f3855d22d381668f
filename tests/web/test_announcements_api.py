"""Announcements: published over the API, shown on the public page in the policy's languages, isolated by tenant."""

from __future__ import annotations

import yaml
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from charter.audit.services import AuditLog
from charter.policy.services import PolicyStore
from tests.conftest import EXAMPLES
from tests.factories import make_tenant, policy_text

NOTICE = {"kind": "notice", "title": {"zh": "系统维护", "en": "Maintenance", "zh_tw": "系統維護"},
          "body": {"zh": "周六凌晨维护。\n\n期间暂停服务。", "en": "Saturday night.\n\nThe service pauses.",
                   "zh_tw": "週六凌晨維護。"}}


def test_an_announcement_is_published_shown_and_withdrawn(client: TestClient, sessions: sessionmaker[Session]) -> None:
    tenant = make_tenant(sessions)
    with sessions() as session, session.begin():
        PolicyStore(session).publish(tenant.controller_id, policy_text(tenant.controller_id), source="p", actor="t")
    created = client.post("/v1/announcements", json=NOTICE, headers=tenant.headers)
    assert created.status_code == 201, created.text
    item = created.json()
    page = client.get(f"/announcements/{tenant.controller_id}", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert page.status_code == 200
    assert page.headers["content-language"] == "en"
    assert "Maintenance" in page.text and "<p>The service pauses.</p>" in page.text
    assert "Acme Ltd" in page.text and "privacy@acme.example" in page.text
    assert "系统维护" in client.get(f"/announcements/{tenant.controller_id}?lang=zh-CN").text
    feed = client.get(f"/announcements/{tenant.controller_id}.json").json()
    assert feed["languages"] == ["zh-CN", "en"]
    assert [a["title"]["en"] for a in feed["announcements"]] == ["Maintenance"]
    other = make_tenant(sessions)
    assert client.get(f"/v1/announcements/{item['id']}", headers=other.headers).status_code == 404
    assert client.post(f"/v1/announcements/{item['id']}/withdraw", headers=other.headers).status_code == 404
    assert client.get("/v1/announcements", headers=other.headers).json() == []
    assert client.post(f"/v1/announcements/{item['id']}/withdraw", headers=tenant.headers).status_code == 200
    assert client.get(f"/announcements/{tenant.controller_id}.json").json()["announcements"] == []
    assert len(client.get("/v1/announcements?all=true", headers=tenant.headers).json()) == 1
    with sessions() as session:
        actions = [e.action for e in AuditLog(session).events(tenant.controller_id)]
        assert actions[:2] == ["announcement.withdrawn", "announcement.published"]


def test_a_hong_kong_controller_publishes_in_traditional_chinese(client: TestClient,
                                                                 sessions: sessionmaker[Session]) -> None:
    tenant = make_tenant(sessions)
    doc = yaml.safe_load((EXAMPLES / "landups" / "policy.yaml").read_text(encoding="utf-8"))
    doc["controller"]["id"] = tenant.controller_id
    with sessions() as session, session.begin():
        PolicyStore(session).publish(tenant.controller_id, yaml.safe_dump(doc, allow_unicode=True), source="p",
                                     actor="t")
    without_tw = {**NOTICE, "title": {"zh": "维护", "en": "Maintenance"}}
    refused = client.post("/v1/announcements", json=without_tw, headers=tenant.headers)
    assert (refused.status_code, refused.json()["error"]["field"]) == (400, "title.zh_tw")
    assert client.post("/v1/announcements", json=NOTICE, headers=tenant.headers).status_code == 201
    page = client.get(f"/announcements/{tenant.controller_id}", headers={"Accept-Language": "zh-HK"})
    assert page.headers["content-language"] == "zh-TW"
    assert "系統維護" in page.text and "繁體中文" in page.text


def test_bad_input_names_the_field_and_unknown_pages_are_not_found(client: TestClient,
                                                                   sessions: sessionmaker[Session]) -> None:
    tenant = make_tenant(sessions)
    missing = client.post("/v1/announcements", json={"title": NOTICE["title"]}, headers=tenant.headers)
    assert (missing.status_code, missing.json()["error"]["field"]) == (422, "body")
    blank = client.post("/v1/announcements", json={**NOTICE, "body": {"zh": " ", "en": "x"}}, headers=tenant.headers)
    assert (blank.status_code, blank.json()["error"]["field"]) == (400, "body.zh")
    assert client.get("/v1/announcements", headers=tenant.headers).json() == []
    assert client.get("/announcements/no-such-controller").status_code == 404
    assert client.get("/announcements/no-such-controller.json").status_code == 404
    assert client.post("/v1/announcements", json=NOTICE).status_code == 401
