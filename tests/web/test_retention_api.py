"""Legal holds and sweeps over HTTP: validation naming the field, nothing written on bad input, tenant isolation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from charter.audit.services import AuditLog
from charter.core.crypto import Keyring
from tests.factories import make_tenant
from tests.retention.estate import NOW, estate, secret_headers, use_secrets, visits


def _audit_count(sessions: sessionmaker[Session], cid: str) -> int:
    with sessions() as session:
        return len(AuditLog(session).events(cid, limit=1000))


def test_holds_are_placed_listed_released_and_invisible_to_other_tenants(
        client: TestClient, sessions: sessionmaker[Session], keyring: Keyring, tmp_path: Path) -> None:
    with estate(sessions, keyring, tmp_path) as place:
        headers = secret_headers(sessions, place.controller_id)
        body = {"dataset": "logs_db", "collection": "visits", "identity": {"kind": "email", "value": "Ann@Example.com"},
                "reason": "Fraud case 2025-4", "expires_at": (NOW + dt.timedelta(days=30)).isoformat()}
        placed = client.post("/v1/holds", json=body, headers=headers)
        assert placed.status_code == 201, placed.text
        hold = placed.json()
        assert (hold["subject_id"], hold["placed_by"].startswith("api_key:")) == (place.subjects["ann@example.com"],
                                                                                 True)
        assert [h["id"] for h in client.get("/v1/holds", headers=headers).json()] == [hold["id"]]
        other = make_tenant(sessions)
        assert client.get(f"/v1/holds/{hold['id']}", headers=other.headers).status_code == 404
        assert client.post(f"/v1/holds/{hold['id']}/release", headers=other.headers).status_code == 404
        assert client.get("/v1/holds", headers=other.headers).json() == []
        released = client.post(f"/v1/holds/{hold['id']}/release", headers=headers)
        assert released.json()["released_at"] is not None
        assert client.get("/v1/holds", headers=headers).json() == []
        assert len(client.get("/v1/holds?all=true", headers=headers).json()) == 1
        assert client.post(f"/v1/holds/{hold['id']}/release", headers=headers).status_code == 409


@pytest.mark.parametrize("case", [
    ({"reason": None}, "reason", 422),
    ({"reason": "   "}, "reason", 400),
    ({"expires_at": "2020-01-01T00:00:00Z"}, "expires_at", 400),
    ({"expires_at": None}, "expires_at", 422),
    ({"dataset": "nowhere"}, "dataset", 400),
    ({"collection": "nothing"}, "collection", 400),
    ({"subject_id": "00000000-0000-0000-0000-000000000000"}, "subject_id", 400),
])
def test_a_bad_hold_names_the_field_and_writes_nothing(client: TestClient, sessions: sessionmaker[Session],
                                                       keyring: Keyring, tmp_path: Path,
                                                       case: tuple[dict[str, object], str, int]) -> None:
    change, field, status = case
    with estate(sessions, keyring, tmp_path) as place:
        headers = secret_headers(sessions, place.controller_id)
        body = {"dataset": "logs_db", "reason": "Audit", "expires_at": (NOW + dt.timedelta(days=3)).isoformat()}
        body.update(change)
        body = {k: v for k, v in body.items() if v is not None}
        before = _audit_count(sessions, place.controller_id)
        response = client.post("/v1/holds", json=body, headers=headers)
        assert response.status_code == status, response.text
        assert response.json()["error"]["field"] == field
        assert client.get("/v1/holds?all=true", headers=headers).json() == []
        assert _audit_count(sessions, place.controller_id) == before


def test_a_sweep_over_http_is_a_dry_run_unless_asked_and_is_recorded(
        client: TestClient, sessions: sessionmaker[Session], keyring: Keyring, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    with estate(sessions, keyring, tmp_path) as place:
        use_secrets(monkeypatch, place)
        headers = secret_headers(sessions, place.controller_id)
        dry = client.post("/v1/retention/sweeps", json={}, headers=headers)
        assert dry.status_code == 201, dry.text
        assert (dry.json()["is_dry_run"], dry.json()["rows_deleted"]) == (True, 8)
        assert len(place.rows(visits)) == 12
        real = client.post("/v1/retention/sweeps", json={"dry_run": False}, headers=headers).json()
        assert (real["rows_deleted"], real["rows_changed"]) == (8, 1)
        assert len(place.rows(visits)) == 4
        runs = client.get("/v1/retention/runs", headers=headers).json()
        assert [r["id"] for r in runs] == [real["id"], dry.json()["id"]]
        outcome = {o["collection"]: o for o in client.get(f"/v1/retention/runs/{real['id']}",
                                                          headers=headers).json()["outcomes"]}
        assert outcome["logs_db.visits"]["rows_deleted"] == 8
        assert client.get(f"/v1/retention/runs/{real['id']}", headers=make_tenant(sessions).headers).status_code == 404
