"""A legal hold on a person's rows restricts them (PIPL art. 47, last paragraph): the data is stored and secured and
used for nothing else — a marketing decision is denied — until the hold ends. Through HTTP, with the Lubpur policy
and data map and the consent ledger's real decisions."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import EXAMPLES
from tests.factories import example_policy_text, make_tenant, publish, register
from tests.web.test_consents_api import decide, grant


def _lubpur_with_data_map(client: TestClient, sessions: sessionmaker[Session]):  # type: ignore[no-untyped-def]
    tenant = make_tenant(sessions)
    publish(client, tenant, example_policy_text(tenant.controller_id))
    datamap = (EXAMPLES / "lubpur" / "datamap.yaml").read_text(encoding="utf-8").replace(
        "controller: lubpur", f"controller: {tenant.controller_id}", 1)
    r = client.post("/v1/datamaps", content=datamap.encode(),
                    headers={**tenant.headers, "Content-Type": "application/yaml"})
    assert r.status_code == 201, r.text
    return tenant


def test_a_marketing_decision_on_restricted_data_is_denied(client: TestClient,
                                                           sessions: sessionmaker[Session]) -> None:
    t = _lubpur_with_data_map(client, sessions)
    subject = register(client, t)
    grant(client, t, subject, "marketing_email")
    assert decide(client, t, subject, "marketing_email")["allowed"]
    hold = client.post("/v1/holds", headers=t.headers, json={
        "dataset": "lubpur_db", "subject_id": subject, "reason": "Litigation 2025-88",
        "expires_at": (dt.datetime.now(dt.UTC) + dt.timedelta(days=60)).isoformat()})
    assert hold.status_code == 201, hold.text
    denied = decide(client, t, subject, "marketing_email")
    assert (denied["allowed"], denied["reasons"]) == (False, ["subject_restricted"])
    assert decide(client, t, subject, "analytics")["allowed"] is False
    stored = decide(client, t, subject, "marketing_email", kind="store")
    assert (stored["allowed"], stored["reasons"]) == (True, ["storage_only"])
    secured = decide(client, t, subject, "security", kind="secure")
    assert (secured["allowed"], secured["reasons"]) == (True, ["security_measure"])
    state = client.get(f"/v1/subjects/{subject}/state", headers=t.headers).json()
    assert state["is_restricted"] is True
    assert client.post(f"/v1/holds/{hold.json()['id']}/release", headers=t.headers).status_code == 200
    assert decide(client, t, subject, "marketing_email")["allowed"]


def test_a_restriction_for_another_reason_outlives_the_hold(client: TestClient,
                                                            sessions: sessionmaker[Session]) -> None:
    t = _lubpur_with_data_map(client, sessions)
    subject = register(client, t)
    r = client.post(f"/v1/subjects/{subject}/restrict", json={"reason": "user_request"}, headers=t.headers)
    assert r.status_code == 200, r.text
    hold = client.post("/v1/holds", headers=t.headers, json={
        "dataset": "lubpur_db", "subject_id": subject, "reason": "Audit",
        "expires_at": (dt.datetime.now(dt.UTC) + dt.timedelta(days=60)).isoformat()}).json()
    client.post(f"/v1/holds/{hold['id']}/release", headers=t.headers)
    assert decide(client, t, subject, "service")["reasons"] == ["subject_restricted"]
