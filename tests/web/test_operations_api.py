"""The operations over HTTP: the order of a transfer enforced with the missing step named, bad input refused with
nothing written, the banner's question answered with a publishable key, exports as CSV, tenants apart."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from charter.accounts.services import ApiKeyService
from charter.audit.services import AuditLog
from charter.core.crypto import Keyring
from charter.outbox.models import OutboxMessage, Status
from tests.factories import make_tenant, register
from tests.retention.estate import NOW, estate, policy_text, secret_headers, use_secrets
from tests.web.test_banner_api import VISITOR, banner_tenant, call
from tests.web.test_consents_api import grant

TRANSFER = {"new_holder": "Beta Ltd", "new_holder_contact": "dpo@beta.example",
            "transfer_date": (NOW + dt.timedelta(days=20)).date().isoformat()}


def _events(sessions: sessionmaker[Session], cid: str) -> int:
    with sessions() as session:
        return len(AuditLog(session).events(cid, limit=1000))


def _settle_all(sessions: sessionmaker[Session], cid: str) -> None:
    """Stand-in for delivery: the SMTP side is tested elsewhere; here only the order of steps matters."""
    with sessions() as session, session.begin():
        for message in session.query(OutboxMessage).filter(OutboxMessage.controller_id == cid):
            message.status = Status.SENT.value


def test_a_transfer_over_http_names_the_missing_step(client: TestClient, sessions: sessionmaker[Session],
                                                     keyring: Keyring, tmp_path: Path) -> None:
    with estate(sessions, keyring, tmp_path) as place:
        cid, headers = place.controller_id, secret_headers(sessions, place.controller_id)
        started = client.post("/v1/operations/transfers", json=TRANSFER, headers=headers)
        assert started.status_code == 201, started.text
        base = f"/v1/operations/transfers/{started.json()['id']}"
        refused = client.post(f"{base}/handover", json={}, headers=headers)
        assert (refused.status_code, refused.json()["error"]["field"]) == (409, "notified")
        dry = client.post(f"{base}/notify", json={"dry_run": True}, headers=headers).json()
        assert dry["would_queue"] == {"email": 4, "in_app": 4}
        assert client.post(f"{base}/notify", json={"announce": True}, headers=headers).status_code == 200
        _settle_all(sessions, cid)
        no_text = client.post(f"{base}/undertaking", json={"signed_by": "Beta CEO"}, headers=headers)
        assert (no_text.status_code, no_text.json()["error"]["field"]) == (422, "text")
        refused = client.post(f"{base}/handover", json={}, headers=headers)
        assert (refused.status_code, refused.json()["error"]["field"]) == (409, "undertaking")
        pledged = client.post(f"{base}/undertaking", json={"text": "We keep every promise.", "signed_by": "Beta CEO"},
                              headers=headers)
        assert pledged.json()["undertaking_sha256"]
        early = client.post(f"{base}/handover", json={"dry_run": True}, headers=headers)
        assert (early.status_code, early.json()["error"]["field"]) == (409, "transfer_date")
        report = client.get(f"{base}/report", headers=headers)
        assert "Beta CEO" in report.text and report.headers["content-type"].startswith("text/markdown")
        other = make_tenant(sessions)
        assert client.get(base, headers=other.headers).status_code == 404
        assert client.post(f"{base}/notify", json={}, headers=other.headers).status_code == 404
        assert client.get("/v1/operations/transfers", headers=other.headers).json() == []


@pytest.mark.parametrize("case", [
    ({"new_holder": None}, "new_holder", 422),
    ({"new_holder": "  "}, "new_holder", 400),
    ({"transfer_date": "2001-01-01"}, "transfer_date", 400),
])
def test_a_bad_transfer_is_refused_and_nothing_written(client: TestClient, sessions: sessionmaker[Session],
                                                       keyring: Keyring, tmp_path: Path,
                                                       case: tuple[dict[str, object], str, int]) -> None:
    change, field, status = case
    with estate(sessions, keyring, tmp_path) as place:
        headers = secret_headers(sessions, place.controller_id)
        before = _events(sessions, place.controller_id)
        body = {k: v for k, v in {**TRANSFER, **change}.items() if v is not None}
        response = client.post("/v1/operations/transfers", json=body, headers=headers)
        assert (response.status_code, response.json()["error"]["field"]) == (status, field)
        assert client.get("/v1/operations/transfers", headers=headers).json() == []
        assert _events(sessions, place.controller_id) == before


def test_disclosures_over_http(client: TestClient, sessions: sessionmaker[Session], keyring: Keyring,
                               tmp_path: Path) -> None:
    with estate(sessions, keyring, tmp_path) as place:
        headers = secret_headers(sessions, place.controller_id)
        body = {"identity": {"kind": "email", "value": "bob@example.com"}, "authority": "Court", "grounds": "Order 3",
                "disclosed_at": NOW.isoformat(), "categories": ["contact.email"]}
        bad = client.post("/v1/operations/disclosures", json={**body, "restriction_basis": "Gag"}, headers=headers)
        assert (bad.status_code, bad.json()["error"]["field"]) == (400, "restricted_until")
        assert client.get("/v1/operations/disclosures", headers=headers).json() == []
        told = client.post("/v1/operations/disclosures", json=body, headers=headers)
        assert told.status_code == 201 and told.json()["notified_at"] is not None
        deferred = client.post("/v1/operations/disclosures", headers=headers, json={
            **body, "restriction_basis": "Gag order", "restricted_until": (NOW + dt.timedelta(days=9)).isoformat()})
        assert deferred.json()["notified_at"] is None
        register = client.get("/v1/operations/disclosures/report", headers=headers).text
        assert "deferred until" in register
        assert client.get(f"/v1/operations/disclosures/{told.json()['id']}",
                          headers=make_tenant(sessions).headers).status_code == 404


def test_cease_export_and_the_banners_question(client: TestClient, sessions: sessionmaker[Session], keyring: Keyring,
                                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with estate(sessions, keyring, tmp_path) as place:
        use_secrets(monkeypatch, place)
        cid, headers = place.controller_id, secret_headers(sessions, place.controller_id)
        with sessions() as session, session.begin():
            publishable = ApiKeyService(session).create(cid, "banner", "publishable", actor="t").token
        banner = {"Authorization": f"Bearer {publishable}"}
        assert client.get("/v1/policy-changes/upcoming", headers=banner).json() is None
        later = policy_text(cid, "2.0", effective=(NOW + dt.timedelta(days=40)).date(), with_surveys=True)
        assert client.post("/v1/policies", content=later, headers={**headers, "Content-Type": "application/yaml"}
                           ).status_code == 201
        upcoming = client.get("/v1/policy-changes/upcoming", headers=banner).json()
        assert (upcoming["to_version"], upcoming["needs_consent"], upcoming["purposes"]) == ("2.0", True, ["surveys"])
        exported = client.post("/v1/operations/exports", json={"collection": "logs_db.visits",
                                                               "generalise": ["created_at=month"]}, headers=headers)
        assert exported.status_code == 200, exported.text
        lines = exported.text.strip().splitlines()
        assert lines[0] == "id,account_id,created_at" and len(lines) == 13
        refused = client.post("/v1/operations/exports", json={"collection": "logs_db.nothing"}, headers=headers)
        assert (refused.status_code, refused.json()["error"]["field"]) == (400, "collection")
        stopped = client.post("/v1/operations/cease", json={"reason": "Closing", "last_day": "2001-01-01"},
                              headers=headers)
        assert (stopped.status_code, stopped.json()["error"]["field"]) == (400, "last_day")
        assert client.post("/v1/operations/cease", json={
            "reason": "Closing", "last_day": (NOW + dt.timedelta(days=5)).date().isoformat()},
            headers=headers).status_code == 201
        assert client.get("/v1/operations/cease", headers=headers).json()["notified_at"] is None
        erase = client.post("/v1/operations/cease/erase", json={"dry_run": True}, headers=headers)
        assert (erase.status_code, erase.json()["error"]["field"]) == (409, "notified")
        assert client.post("/v1/operations/cease/notify", json={"individually": False}, headers=headers).json()[
            "announcement_id"]
        assert "Closing" in client.get("/v1/operations/cease/report", headers=headers).text
        assert client.get("/v1/operations/cease", headers=make_tenant(sessions).headers).status_code == 404


def test_after_ceasing_operations_collection_endpoints_refuse_with_a_clear_error(
        client: TestClient, sessions: sessionmaker[Session]) -> None:
    t = banner_tenant(client, sessions)
    subject = register(client, t)
    grant(client, t, subject, "analytics")
    stopped = client.post("/v1/operations/cease", headers=t.headers, json={
        "reason": "Closing", "last_day": (NOW + dt.timedelta(days=30)).date().isoformat()})
    assert stopped.status_code == 201, stopped.text
    client.app.state.keys._known.clear()  # type: ignore[attr-defined]  # the key cache would hide it for 10 s

    def refused(response: Any) -> None:
        assert response.status_code == 409, response.text
        error = response.json()["error"]
        assert error["code"] == "collection_stopped" and "ceased operations" in error["message"]
        assert f"/announcements/{t.controller_id}" in error["fix"]

    refused(client.post("/v1/consents", json={"subject_id": subject, "purpose": "marketing_email"},
                        headers=t.headers))
    refused(client.post("/v1/decisions", json={"subject_id": subject, "purpose": "analytics"}, headers=t.headers))
    refused(client.post("/v1/subjects", json={"identities": [{"kind": "email", "value": "new@example.com"}]},
                        headers=t.headers))
    refused(call(client, t, "/choices", {"visitor_id": VISITOR, "policy_hash": "x", "choices": {"analytics": True}}))
    withdrawn = client.post("/v1/consents", json={"subject_id": subject, "purpose": "analytics", "action": "withdraw"},
                            headers=t.headers)
    assert withdrawn.status_code == 201  # people can still say no
