"""Incidents over HTTP: the whole workflow, bad input refused naming the field with nothing written, tenants apart."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from charter.audit.services import AuditLog
from charter.core.crypto import Keyring
from tests.factories import make_tenant
from tests.incidents.helpers import elements_json
from tests.retention.estate import NOW, estate, secret_headers, use_secrets

INCIDENT = {"title": "Visit-log backup exposed", "found_by": "Security on-call", "location": "Backup bucket",
            "discovered_at": (NOW - dt.timedelta(hours=5)).isoformat(), "description": "Public for a day.",
            "categories": ["contact.email", "device.ip"], "systems": ["logs_db"], "people_estimate": 4,
            "police_informed": False, "is_significant": True}


def _events(sessions: sessionmaker[Session], cid: str) -> int:
    with sessions() as session:
        return len(AuditLog(session).events(cid, limit=1000))


def test_record_resolve_notify_file_and_report(client: TestClient, sessions: sessionmaker[Session],
                                               keyring: Keyring, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    with estate(sessions, keyring, tmp_path) as place:
        use_secrets(monkeypatch, place)
        headers = secret_headers(sessions, place.controller_id)
        created = client.post("/v1/incidents", json=INCIDENT, headers=headers)
        assert created.status_code == 201, created.text
        incident = created.json()
        assert [(c["code"], c["status"]) for c in incident["clocks"]] == [("significant_incident", "overdue")]
        overdue = client.get("/v1/incidents/overdue", headers=headers).json()
        assert [(o["reference"], o["clock"]["code"]) for o in overdue] == [(incident["reference"],
                                                                            "significant_incident")]
        base = f"/v1/incidents/{incident['id']}"
        resolved = client.post(f"{base}/resolve", headers=headers).json()
        assert resolved["affected_count"] == 4
        notice = client.post(f"{base}/notices", json={"elements": elements_json(), "channels": ["email"],
                                                      "announce": True}, headers=headers)
        assert notice.status_code == 201, notice.text
        sent = client.post(f"{base}/notices/{notice.json()['id']}/send", headers=headers).json()
        assert (sent["status"], sent["counts"]["queued"]) == ("sent", {"email": 4})
        public = client.get(f"/announcements/{place.controller_id}.json").json()
        assert public["announcements"][0]["kind"] == "incident"
        filed = client.post(f"{base}/filings", json={"clock": "significant_incident", "authority": "上海市网信办"},
                            headers=headers)
        assert filed.status_code == 201
        assert client.get("/v1/incidents/overdue", headers=headers).json() == []
        assert client.get(base, headers=headers).json()["clocks"][0]["status"] == "late"
        markdown = client.get(f"{base}/report?lang=en", headers=headers)
        assert markdown.headers["content-type"].startswith("text/markdown") and incident["reference"] in markdown.text
        pdf = client.get(f"{base}/report?lang=zh-CN&format=pdf", headers=headers)
        assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
        other = make_tenant(sessions)
        for path in (base, f"{base}/report", f"{base}/notices"):
            assert client.get(path, headers=other.headers).status_code == 404, path
        assert client.post(f"{base}/resolve", headers=other.headers).status_code == 404
        assert client.get("/v1/incidents", headers=other.headers).json() == []
        assert client.post(f"{base}/close", headers=headers).json()["status"] == "closed"


@pytest.mark.parametrize("case", [
    ({"title": None}, "title", 422),
    ({"discovered_at": None}, "discovered_at", 422),
    ({"police_informed": None}, "police_informed", 422),
    ({"categories": ["nope"]}, "categories[0]", 400),
    ({"systems": ["elsewhere"]}, "systems[0]", 400),
    ({"location": ""}, "location", 400),
])
def test_a_bad_incident_names_the_field_and_writes_nothing(client: TestClient, sessions: sessionmaker[Session],
                                                           keyring: Keyring, tmp_path: Path,
                                                           case: tuple[dict[str, object], str, int]) -> None:
    change, field, status = case
    with estate(sessions, keyring, tmp_path) as place:
        headers = secret_headers(sessions, place.controller_id)
        before = _events(sessions, place.controller_id)
        body = {k: v for k, v in {**INCIDENT, **change}.items() if v is not None}
        response = client.post("/v1/incidents", json=body, headers=headers)
        assert (response.status_code, response.json()["error"]["field"]) == (status, field)
        assert client.get("/v1/incidents", headers=headers).json() == []
        assert _events(sessions, place.controller_id) == before


def test_a_notice_without_an_element_is_refused_naming_it(client: TestClient, sessions: sessionmaker[Session],
                                                          keyring: Keyring, tmp_path: Path) -> None:
    with estate(sessions, keyring, tmp_path) as place:
        headers = secret_headers(sessions, place.controller_id)
        incident = client.post("/v1/incidents", json=INCIDENT, headers=headers).json()
        before = _events(sessions, place.controller_id)
        refused = client.post(f"/v1/incidents/{incident['id']}/notices",
                              json={"elements": elements_json(possible_harm=None), "channels": ["email"]},
                              headers=headers)
        assert refused.status_code == 400
        assert refused.json()["error"]["field"] == "elements.possible_harm"
        assert "harm it may cause" in refused.json()["error"]["message"]
        blank = client.post(f"/v1/incidents/{incident['id']}/notices",
                            json={"elements": elements_json(remedies={"zh": "有", "en": ""}), "channels": ["sms"]},
                            headers=headers)
        assert blank.json()["error"]["field"] == "elements.remedies.en"
        assert client.get(f"/v1/incidents/{incident['id']}/notices", headers=headers).json() == []
        assert _events(sessions, place.controller_id) == before
        filing = client.post(f"/v1/incidents/{incident['id']}/filings", json={"clock": "x", "authority": "y"},
                             headers=headers)
        assert (filing.status_code, filing.json()["error"]["field"]) == (400, "clock")
