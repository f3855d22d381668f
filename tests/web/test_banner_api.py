"""The banner's API through HTTP on SQLite and PostgreSQL: CORS per controller, choices in the ledger, GPC, bad
input refused naming the field with nothing written, the static script and /.well-known/gpc.json."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from charter.accounts.services import OriginService
from charter.core.db import transaction
from tests.factories import Tenant, example_policy_text, make_tenant, publish
from tests.web.test_consents_api import counts

ORIGIN = "https://www.lubpur.example"
VISITOR = "0123456789abcdef0123456789abcdef"


def banner_tenant(client: TestClient, sessions: sessionmaker[Session]) -> Tenant:
    tenant = make_tenant(sessions)
    publish(client, tenant, example_policy_text(tenant.controller_id))
    with transaction(sessions) as s:
        OriginService(s).add(tenant.controller_id, ORIGIN, actor="test")
    return tenant


def call(client: TestClient, t: Tenant, path: str, body: dict[str, Any], origin: str = ORIGIN,
         **headers: str) -> Any:
    return client.post(f"/v1/banner/{t.publishable}{path}", json=body, headers={"Origin": origin, **headers})


def test_a_first_visit_is_prompted_and_the_choice_lands_in_the_ledger(
        client: TestClient, sessions: sessionmaker[Session]) -> None:
    t = banner_tenant(client, sessions)
    r = call(client, t, "/session", {})
    assert r.status_code == 200, r.text
    assert r.headers["access-control-allow-origin"] == ORIGIN
    session = r.json()
    assert session["needs_prompt"] is True
    assert session["status"] == {"strictly_necessary": "always", "preferences": "unset", "analytics": "unset",
                                 "marketing": "unset", "email_tracking": "unset"}
    analytics = next(c for c in session["config"]["categories"] if c["id"] == "analytics")
    assert analytics["label"] == {"zh-CN": "统计分析", "zh-TW": "統計分析", "en": "Analytics"}
    assert analytics["purposes"][0]["label"]["en"] == "Data analysis"
    policy_hash = session["config"]["policy"]["hash"]
    choice = {"visitor_id": VISITOR, "policy_hash": policy_hash, "language": "en",
              "choices": {"analytics": True, "marketing": True, "preferences": False, "email_tracking": False}}
    r = call(client, t, "/choices", choice, **{"Sec-GPC": "1", "User-Agent": "UA/1", "X-Request-Id": "req-7"})
    assert r.status_code == 200, r.text
    assert r.json()["status"]["analytics"] == "granted"
    assert r.json()["status"]["marketing"] == "refused"  # GPC wins over the tick
    assert r.json()["needs_prompt"] is False
    again = call(client, t, "/choices", choice, **{"Sec-GPC": "1"})
    assert again.json()["recorded"] == []  # nothing changed, nothing written twice
    assert call(client, t, "/session", {"visitor_id": VISITOR}).json()["needs_prompt"] is False
    receipts = call(client, t, "/receipt", {"visitor_id": VISITOR}).json()["receipts"]
    assert {(r["purpose"]["id"], r["event"]["type"]) for r in receipts} == {
        ("analytics", "given"), ("marketing_email", "refused"), ("personalisation", "refused"),
        ("email_tracking", "refused")}
    marketing = next(r for r in receipts if r["purpose"]["id"] == "marketing_email")
    assert (marketing["collection"]["method"], marketing["evidence"]["gpc"]) == ("gpc", True)


def test_cors_answers_only_the_declared_origins(client: TestClient, sessions: sessionmaker[Session]) -> None:
    t = banner_tenant(client, sessions)
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    ok = client.options(f"/v1/banner/{t.publishable}/choices", headers={"Origin": ORIGIN, **preflight})
    assert (ok.status_code, ok.headers["access-control-allow-origin"]) == (204, ORIGIN)
    bad = client.options(f"/v1/banner/{t.publishable}/choices",
                         headers={"Origin": "https://evil.example", **preflight})
    assert bad.status_code == 403
    assert "access-control-allow-origin" not in bad.headers
    before = counts(sessions, t.controller_id)
    refused = call(client, t, "/choices", {"visitor_id": VISITOR, "policy_hash": "x", "choices": {"analytics": True}},
                   origin="https://evil.example")
    assert (refused.status_code, refused.json()["error"]["field"]) == (403, "origin")
    other = banner_tenant(client, sessions)  # declared for another controller only: still refused here
    with transaction(sessions) as s:
        OriginService(s).add(other.controller_id, "https://other.example", actor="test")
    assert call(client, t, "/session", {}, origin="https://other.example").status_code == 403
    assert counts(sessions, t.controller_id) == before


BAD_CHOICES = [  # (case, change, status, field)
    ("unknown category", {"choices": {"telepathy": True}}, 400, "choices.telepathy"),
    ("always-on category", {"choices": {"strictly_necessary": False}}, 400, "choices.strictly_necessary"),
    ("outdated policy", {"policy_hash": "sha256:old"}, 409, "policy_hash"),
    ("malformed visitor", {"visitor_id": "me"}, 422, "visitor_id"),
    ("unknown language", {"language": "fr"}, 422, "language"),
    ("no choices", {"choices": {}}, 422, "choices"),
]


@pytest.mark.parametrize("bad", BAD_CHOICES, ids=[b[0] for b in BAD_CHOICES])
def test_bad_choices_name_the_field_and_write_nothing(client: TestClient, sessions: sessionmaker[Session],
                                                      bad: tuple[str, dict[str, Any], int, str]) -> None:
    case, change, status, field = bad
    t = banner_tenant(client, sessions)
    policy_hash = call(client, t, "/session", {}).json()["config"]["policy"]["hash"]
    before = counts(sessions, t.controller_id)
    body = {"visitor_id": VISITOR, "policy_hash": policy_hash, "choices": {"analytics": True}, **change}
    r = call(client, t, "/choices", body)
    assert (r.status_code, r.json()["error"]["field"]) == (status, field), (case, r.text)
    assert counts(sessions, t.controller_id) == before


def test_keys_in_the_banner(client: TestClient, sessions: sessionmaker[Session]) -> None:
    t = banner_tenant(client, sessions)
    r = client.post(f"/v1/banner/{t.secret}/session", json={}, headers={"Origin": ORIGIN})
    assert (r.status_code, r.json()["error"]["field"]) == (403, "key")  # a secret key never goes in a page
    assert client.post("/v1/banner/chp_nope_nope/session", json={}, headers={"Origin": ORIGIN}).status_code == 401
    stranger = banner_tenant(client, sessions)
    call(client, t, "/choices", {"visitor_id": VISITOR, "choices": {"analytics": True},
                                 "policy_hash": call(client, t, "/session", {}).json()["config"]["policy"]["hash"]})
    # The same visitor id under another controller's key is a stranger there.
    assert call(client, stranger, "/session", {"visitor_id": VISITOR}).json()["status"]["analytics"] == "unset"
    assert call(client, stranger, "/receipt", {"visitor_id": VISITOR}).json() == {"receipts": []}


def test_the_script_and_gpc_json_are_served(client: TestClient) -> None:
    script = client.get("/static/charter-consent.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert "data-charter-purpose" in script.text
    assert client.get("/.well-known/gpc.json").json()["gpc"] is True
