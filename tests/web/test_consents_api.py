"""The consent ledger through HTTP on SQLite and PostgreSQL: record, withdraw, history, receipts, batches,
re-consent after a material policy change, guardian consent, acceptance of the policy at registration, and every
bad input refused with nothing written."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from charter.audit.models import AuditEvent
from charter.consent.models import ConsentEvent, ConsentState, GuardianRecord
from charter.consent.services import ConsentLedger
from charter.core.crypto import Keyring
from charter.requests.bundle import ConsentHistory
from charter.subjects.models import Subject
from tests.factories import Tenant, example_policy_text, make_tenant, publish, register

GUARDIAN = {"name": "王芳", "relationship": "parent", "contact": "+86 138 0013 8000",
            "verification_method": "id_document", "verified_at": "2025-01-02T03:04:05Z", "rules_version": "2023-05"}


def lubpur(client: TestClient, sessions: sessionmaker[Session]) -> Tenant:
    tenant = make_tenant(sessions)
    publish(client, tenant, example_policy_text(tenant.controller_id))
    return tenant


def grant(client: TestClient, t: Tenant, subject: str, purpose: str, **extra: Any) -> dict[str, Any]:
    r = client.post("/v1/consents", json={"subject_id": subject, "purpose": purpose, **extra}, headers=t.headers)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def decide(client: TestClient, t: Tenant, subject: str, purpose: str, **extra: Any) -> dict[str, Any]:
    r = client.post("/v1/decisions", json={"subject_id": subject, "purpose": purpose, **extra}, headers=t.headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def counts(sessions: sessionmaker[Session], cid: str) -> tuple[int, ...]:
    with sessions() as s:
        return tuple(s.execute(select(func.count()).select_from(model).where(model.controller_id == cid))
                     .scalar_one() for model in (ConsentEvent, ConsentState, GuardianRecord, Subject, AuditEvent))


def test_grant_then_withdraw_takes_effect_in_the_next_decision_and_keeps_history(
        client: TestClient, sessions: sessionmaker[Session], keyring: Keyring) -> None:
    t = lubpur(client, sessions)
    subject = register(client, t)
    assert decide(client, t, subject, "analytics")["reasons"] == ["no_consent"]
    granted = grant(client, t, subject, "analytics", channel="web", method="checkbox", language="en",
                    evidence={"ip": "203.0.113.9", "user_agent": "Mozilla/5.0", "request_id": "req-1"})
    assert (granted["status"], granted["seq"]) == ("granted", 1)
    allowed = decide(client, t, subject, "analytics")
    assert (allowed["allowed"], allowed["basis"], allowed["obligations"]) == (True, "consent", ["deidentify"])
    withdrawn = grant(client, t, subject, "analytics", action="withdraw")
    assert withdrawn["status"] == "withdrawn"
    denied = decide(client, t, subject, "analytics")
    assert (denied["allowed"], denied["reasons"], denied["ask_consent"]) == (False, ["consent_withdrawn"], False)

    body = client.get(f"/v1/subjects/{subject}/consents?history=true", headers=t.headers).json()
    assert [(c["purpose"], c["status"]) for c in body["consents"]] == [("analytics", "withdrawn")]
    assert [e["action"] for e in body["history"]] == ["grant", "withdraw"]
    assert body["history"][0]["hash"] == granted["hash"]  # PIPL art. 15: earlier processing stays on record
    with sessions() as s:
        ledger = ConsentLedger(s, keyring)
        assert ledger.verify(t.controller_id).ok
        assert ledger.projected(t.controller_id) == ledger.replayed(t.controller_id)
        stored = s.execute(select(ConsentEvent.evidence_encrypted).where(
            ConsentEvent.controller_id == t.controller_id)).scalars().all()
        assert all(v is None or "203.0.113.9" not in v for v in stored)
        assert ledger.evidence(t.controller_id, granted["record_id"])["ip"] == "203.0.113.9"
        audit = s.execute(select(AuditEvent).where(AuditEvent.controller_id == t.controller_id,
                                                   AuditEvent.action == "consent.recorded")).scalars().all()
        assert [a.data["events"] for a in audit] == [1, 1]
        assert all("203.0.113.9" not in str(a.data) for a in audit)


def test_a_receipt_carries_the_27560_fields_and_is_a_download(
        client: TestClient, sessions: sessionmaker[Session]) -> None:
    t = lubpur(client, sessions)
    subject = register(client, t)
    record = grant(client, t, subject, "marketing_email", channel="email", method="double_opt_in",
                   notice="subscribe-form", language="zh-CN", evidence={"gpc": False})
    r = client.get(record["receipt"], headers=t.headers)
    assert r.status_code == 200
    assert r.headers["content-disposition"].startswith("attachment;")
    receipt = r.json()
    assert receipt["record_id"] == record["record_id"]
    assert receipt["pii_principal"]["id"] == subject
    assert receipt["pii_controller"]["name"] == "超润贸易(上海)有限公司"
    assert receipt["notice"] == {"id": "subscribe-form", "language": "zh-CN", "policy_version": "2023-05",
                                 "policy_content_hash": receipt["notice"]["policy_content_hash"]}
    assert receipt["notice"]["policy_content_hash"].startswith("sha256:")
    assert receipt["event"]["type"] == "given"
    assert receipt["consent_type"] == "general"
    assert receipt["purpose"]["legal_basis"] == "consent"
    assert {c["id"] for c in receipt["purpose"]["pii_categories"]} == {"basic.email", "basic.name"}
    assert receipt["collection"] == {"method": "double_opt_in", "channel": "email", "linked_from_record": None}
    assert receipt["jurisdiction"] == "CN"
    assert receipt["validity"]["until_withdrawn"] is True
    assert receipt["ledger"]["hash"] == record["hash"]
    stranger = make_tenant(sessions)
    assert client.get(record["receipt"], headers=stranger.headers).status_code == 404


def test_a_batch_is_one_transaction_with_one_audit_event(
        client: TestClient, sessions: sessionmaker[Session], keyring: Keyring) -> None:
    t = lubpur(client, sessions)
    subjects = [register(client, t) for _ in range(3)]
    batch = [{"subject_id": s, "purpose": p} for s in subjects for p in ("analytics", "personalisation")]
    r = client.post("/v1/consents", json=batch, headers=t.headers)
    assert r.status_code == 201, r.text
    assert [e["seq"] for e in r.json()] == list(range(1, 7))
    with sessions() as s:
        audit = s.execute(select(AuditEvent.data).where(AuditEvent.controller_id == t.controller_id,
                                                        AuditEvent.action == "consent.recorded")).scalars().all()
        assert [a["events"] for a in audit] == [6]
        assert ConsentLedger(s, keyring).verify(t.controller_id).ok
    before = counts(sessions, t.controller_id)
    bad = [*batch[:2], {"subject_id": subjects[0], "purpose": "analytcs"}]
    r = client.post("/v1/consents", json=bad, headers=t.headers)
    assert (r.status_code, r.json()["error"]["field"]) == (400, "[2].purpose")
    assert "analytics" in r.json()["error"]["fix"]
    assert counts(sessions, t.controller_id) == before


def test_a_material_policy_change_needs_fresh_consent(client: TestClient, sessions: sessionmaker[Session],
                                                       keyring: Keyring) -> None:
    t = lubpur(client, sessions)
    subject = register(client, t)
    grant(client, t, subject, "analytics")
    grant(client, t, subject, "personalisation")
    assert decide(client, t, subject, "analytics")["allowed"]

    def widen_analytics(doc: dict[str, Any]) -> None:
        analytics = next(p for p in doc["purposes"] if p["id"] == "analytics")
        analytics["categories"].append("identity.ip")

    publish(client, t, example_policy_text(t.controller_id, version="2024-01", effective="2024-01-01",
                                           edit=widen_analytics))
    again = decide(client, t, subject, "analytics")
    assert (again["allowed"], again["reasons"], again["ask_consent"]) == (False, ["needs_reconsent"], True)
    assert decide(client, t, subject, "personalisation")["allowed"]  # unchanged purpose: consent still counts
    states = client.get(f"/v1/subjects/{subject}/consents", headers=t.headers).json()["consents"]
    assert {c["purpose"]: c["needs_reconsent"] for c in states} == {"analytics": True, "personalisation": False}
    with sessions() as s, s.begin():
        ledger = ConsentLedger(s, keyring)
        done = ledger.supersede_outdated(t.controller_id, _terms(s, t.controller_id), actor="test")
        assert [(d.purpose, d.action) for d in done] == [("analytics", "supersede")]
    assert decide(client, t, subject, "analytics")["reasons"] == ["needs_reconsent"]
    grant(client, t, subject, "analytics")
    assert decide(client, t, subject, "analytics")["allowed"]


def _terms(session: Session, controller_id: str) -> Any:
    from charter.decisions.services import load_terms  # noqa: PLC0415

    return load_terms(session, controller_id, dt.datetime.now(dt.UTC).date())


def test_registration_records_acceptance_of_the_exact_policy_version_and_asks_again_after_a_change(
        client: TestClient, sessions: sessionmaker[Session], keyring: Keyring) -> None:
    """LUB-ACCEPT: registering records that the person accepted the policy (version and content hash) in the
    ledger, in their history, receipt and export; it consents to no purpose; a material change asks for it again,
    and the new acceptance is appended, never rewriting the first."""
    t = lubpur(client, sessions)
    r = client.post("/v1/subjects", json={
        "identities": [{"kind": "email", "value": "accept@example.com"}],
        "acceptance": {"channel": "web", "notice": "registration-form", "language": "en",
                       "evidence": {"ip": "203.0.113.9", "user_agent": "UA", "request_id": "reg-1"}}},
        headers=t.headers)
    assert r.status_code == 201, r.text
    subject, accepted = r.json()["subject_id"], r.json()["acceptance"]
    assert (accepted["purpose"], accepted["action"], accepted["status"]) == ("policy", "accept", "accepted")
    body = client.get(f"/v1/subjects/{subject}/consents?history=true", headers=t.headers).json()
    first = _terms_hash(sessions, t.controller_id)
    assert [(c["purpose"], c["status"], c["policy_hash"], c["consent_kind"], c["needs_reconsent"])
            for c in body["consents"]] == [("policy", "accepted", first, "none", False)]
    assert [(e["action"], e["purpose"], e["channel"]) for e in body["history"]] == [("accept", "policy", "web")]
    receipt = client.get(f"/v1/consents/{accepted['record_id']}/receipt", headers=t.headers).json()
    assert (receipt["event"]["type"], receipt["consent_type"], receipt["notice"]["policy_content_hash"]) == (
        "accepted", "none", first)
    assert receipt["purpose"]["whole_policy"] is True
    assert {"analytics", "service"} <= {p["id"] for p in receipt["purpose"]["purposes"]}
    # Accepting the policy is no consent to a purpose that rests on consent (PIPL art. 16: no bundled consent).
    assert decide(client, t, subject, "analytics")["reasons"] == ["no_consent"]
    assert decide(client, t, subject, "service")["allowed"]

    def widen_analytics(doc: dict[str, Any]) -> None:
        next(p for p in doc["purposes"] if p["id"] == "analytics")["categories"].append("identity.ip")

    publish(client, t, example_policy_text(t.controller_id, version="2024-01", effective="2024-01-01",
                                           edit=widen_analytics))
    states = client.get(f"/v1/subjects/{subject}/consents", headers=t.headers).json()["consents"]
    assert [(c["purpose"], c["needs_reconsent"]) for c in states] == [("policy", True)]
    again = client.post(f"/v1/subjects/{subject}/acceptance", json={"policy_version": "2024-01", "channel": "app"},
                        headers=t.headers)
    assert again.status_code == 201, again.text
    body = client.get(f"/v1/subjects/{subject}/consents?history=true", headers=t.headers).json()
    assert [(c["purpose"], c["policy_version"], c["needs_reconsent"]) for c in body["consents"]] == [
        ("policy", "2024-01", False)]
    assert [(e["record_id"], e["policy_version"]) for e in body["history"]] == [
        (accepted["record_id"], "2023-05"), (again.json()["record_id"], "2024-01")]
    with sessions() as s:
        ledger = ConsentLedger(s, keyring)
        assert ledger.verify(t.controller_id).ok
        assert ledger.projected(t.controller_id) == ledger.replayed(t.controller_id)
        assert ledger.evidence(t.controller_id, accepted["record_id"]) == {"ip": "203.0.113.9", "user_agent": "UA"}
        exported = ConsentHistory.of(s, keyring, t.controller_id, subject)  # the access bundle's consent history
        assert [(e.purpose, e.action, e.policy_version) for e in exported] == [
            ("policy", "accept", "2023-05"), ("policy", "accept", "2024-01")]


def _terms_hash(sessions: sessionmaker[Session], controller_id: str) -> str:
    with sessions() as s:
        current: str = _terms(s, controller_id).current.content_hash
        return current


BAD_ACCEPTANCES = [  # (case, acceptance, status, field named); 422: the body's shape (FastAPI validates it)
    ("unknown policy version", {"policy_version": "1999"}, 404, "acceptance.policy_version"),
    ("jurisdiction outside the policy", {"jurisdiction": "HK"}, 400, "acceptance.jurisdiction"),
    ("unknown language", {"language": "fr"}, 422, "acceptance.language"),
    ("bad IP evidence", {"evidence": {"ip": "999.1.1.1"}}, 422, "acceptance.evidence.ip"),
    ("unknown field", {"purpose": "analytics"}, 422, "acceptance.purpose"),
]


@pytest.mark.parametrize("bad", BAD_ACCEPTANCES, ids=[c[0] for c in BAD_ACCEPTANCES])
def test_a_bad_acceptance_names_the_field_and_registers_no_one(
        client: TestClient, sessions: sessionmaker[Session], bad: tuple[str, dict[str, Any], int, str]) -> None:
    case, acceptance, status, field = bad
    t = lubpur(client, sessions)
    before = counts(sessions, t.controller_id)
    r = client.post("/v1/subjects", json={"identities": [{"kind": "email", "value": "bad-accept@example.com"}],
                                          "acceptance": acceptance}, headers=t.headers)
    assert (r.status_code, r.json()["error"]["field"]) == (status, field), (case, r.text)
    assert counts(sessions, t.controller_id) == before
    subject = register(client, t)
    before = counts(sessions, t.controller_id)
    r = client.post(f"/v1/subjects/{subject}/acceptance", json=acceptance, headers=t.headers)
    assert (r.status_code, r.json()["error"]["field"]) == (status, field.removeprefix("acceptance.")), (case, r.text)
    assert counts(sessions, t.controller_id) == before


def test_an_acceptance_for_someone_unknown_or_another_controllers_is_refused(
        client: TestClient, sessions: sessionmaker[Session]) -> None:
    owner, stranger = lubpur(client, sessions), lubpur(client, sessions)
    subject = register(client, owner)
    before = counts(sessions, owner.controller_id), counts(sessions, stranger.controller_id)
    for tenant, who in ((stranger, subject), (owner, "00000000-0000-4000-8000-000000000000")):
        r = client.post(f"/v1/subjects/{who}/acceptance", json={}, headers=tenant.headers)
        assert (r.status_code, r.json()["error"]["field"]) == (404, "subject_id"), r.text
    assert (counts(sessions, owner.controller_id), counts(sessions, stranger.controller_id)) == before


def test_a_minor_needs_a_guardian_consent_record(client: TestClient, sessions: sessionmaker[Session]) -> None:
    t = lubpur(client, sessions)
    r = client.post("/v1/subjects", json={"identities": [{"kind": "phone", "value": "+86 139 1000 0001"}],
                                          "birth_date": "2015-03-01"}, headers=t.headers)
    assert r.status_code == 201, r.text
    assert (r.json()["is_minor"], r.json()["needs_guardian"]) == (True, True)
    minor = r.json()["subject_id"]
    denied = decide(client, t, minor, "service")
    assert (denied["allowed"], denied["reasons"]) == (False, ["guardian_consent_required"])
    r = client.post("/v1/consents", json={"subject_id": minor, "purpose": "minors"}, headers=t.headers)
    assert (r.status_code, r.json()["error"]["field"]) == (400, "action")
    grant(client, t, minor, "minors", action="guardian_grant", guardian=GUARDIAN)
    allowed = decide(client, t, minor, "service")
    assert (allowed["allowed"], allowed["basis"]) == (True, "contract")
    assert "minor" in allowed["reasons"]
    assert decide(client, t, minor, "minors", kind="minor")["reasons"] == ["minor", "guardian_consent"]
    grant(client, t, minor, "analytics")  # given by the minor, not the guardian
    assert decide(client, t, minor, "analytics")["reasons"] == ["guardian_consent_required"]
    adult = register(client, t, age_band="18+")
    assert decide(client, t, adult, "service")["allowed"]


def test_a_policy_may_refuse_minors_outright(client: TestClient, sessions: sessionmaker[Session]) -> None:
    t = make_tenant(sessions)

    def refuse(doc: dict[str, Any]) -> None:
        doc["minors"] = {"policy": "refuse", "age_threshold": 14}

    publish(client, t, example_policy_text(t.controller_id, edit=refuse))
    before = counts(sessions, t.controller_id)
    r = client.post("/v1/subjects", json={"identities": [{"kind": "email", "value": "kid@example.com"}],
                                          "age_band": "10-13"}, headers=t.headers)
    assert (r.status_code, r.json()["error"]["field"]) == (403, "age_band")
    assert counts(sessions, t.controller_id) == before
    assert register(client, t, birth_date="1990-01-01")


BAD_CONSENTS = [  # (case, change to a valid grant, status, field named)
    ("unknown purpose", {"purpose": "telepathy"}, 400, "purpose"),
    ("purpose the policy asks no consent for", {"purpose": "service"}, 400, "purpose"),
    ("unknown subject", {"subject_id": "00000000-0000-4000-8000-000000000000"}, 404, "subject_id"),
    ("malformed subject", {"subject_id": "me"}, 400, "subject_id"),
    ("weaker consent kind", {"purpose": "share_partners", "consent_kind": "general"}, 400, "consent_kind"),
    ("guardian consent without a guardian", {"purpose": "minors", "action": "guardian_grant"}, 400, "guardian"),
    ("guardian record without a contact", {"purpose": "minors", "action": "guardian_grant",
                                           "guardian": {k: v for k, v in GUARDIAN.items() if k != "contact"}},
     400, "guardian.contact"),
    ("guardian verified how?", {"purpose": "minors", "action": "guardian_grant",
                                "guardian": {**GUARDIAN, "verification_method": "vibes"}},
     400, "guardian.verification_method"),
    ("guardian shown unknown rules", {"purpose": "minors", "action": "guardian_grant",
                                      "guardian": {**GUARDIAN, "rules_version": "9"}}, 404, "guardian.rules_version"),
    ("unknown policy version", {"policy_version": "1999"}, 404, "policy_version"),
    ("jurisdiction outside the policy", {"jurisdiction": "HK"}, 400, "jurisdiction"),
    ("validity in the past", {"valid_until": "2020-01-01T00:00:00Z"}, 400, "valid_until"),
    ("unknown language", {"language": "fr"}, 400, "language"),
    ("bad IP evidence", {"evidence": {"ip": "999.1.1.1"}}, 400, "evidence.ip"),
    ("unknown field", {"colour": "blue"}, 400, "colour"),
    ("system action", {"action": "expire"}, 400, "action"),
]


@pytest.mark.parametrize("bad", BAD_CONSENTS, ids=[c[0] for c in BAD_CONSENTS])
def test_bad_consents_are_refused_naming_the_field_and_nothing_is_written(
        client: TestClient, sessions: sessionmaker[Session], bad: tuple[str, dict[str, Any], int, str]) -> None:
    case, change, status, field = bad
    t = lubpur(client, sessions)
    subject = register(client, t)
    before = counts(sessions, t.controller_id)
    r = client.post("/v1/consents", json={"subject_id": subject, "purpose": "analytics", **change}, headers=t.headers)
    assert (r.status_code, r.json()["error"]["field"]) == (status, field), (case, r.text)
    assert r.json()["error"]["message"]
    assert counts(sessions, t.controller_id) == before


def test_another_controllers_key_sees_none_of_it(client: TestClient, sessions: sessionmaker[Session]) -> None:
    owner, stranger = lubpur(client, sessions), lubpur(client, sessions)
    subject = register(client, owner)
    record = grant(client, owner, subject, "analytics")
    before = counts(sessions, owner.controller_id), counts(sessions, stranger.controller_id)
    calls = [
        ("post", "/v1/consents", {"subject_id": subject, "purpose": "analytics"}),
        ("get", f"/v1/subjects/{subject}/consents", None),
        ("get", f"/v1/subjects/{subject}/state", None),
        ("get", f"/v1/consents/{record['record_id']}/receipt", None),
        ("post", f"/v1/subjects/{subject}/suspend", {"reason": "user_report"}),
        ("post", f"/v1/subjects/{subject}/unsuspend", None),
        ("post", f"/v1/subjects/{subject}/restrict", {"reason": "legal_hold"}),
        ("post", f"/v1/subjects/{subject}/lift-restriction", None),
        ("post", f"/v1/subjects/{subject}/link-visitor", {"visitor_id": "a" * 32}),
        ("post", "/v1/decisions", {"subject_id": subject, "purpose": "analytics"}),
    ]
    for method, path, body in calls:
        r = client.request(method, path, json=body, headers=stranger.headers)
        assert r.status_code == 404, (path, r.text)
    assert (counts(sessions, owner.controller_id), counts(sessions, stranger.controller_id)) == before
    assert client.post("/v1/consents", json={"subject_id": subject, "purpose": "analytics"},
                       headers={"Authorization": f"Bearer {owner.publishable}"}).status_code == 403


def test_bad_registrations_name_the_field(client: TestClient, sessions: sessionmaker[Session]) -> None:
    t = lubpur(client, sessions)
    before = counts(sessions, t.controller_id)
    cases = [
        ({"birth_date": "2012-13-01"}, "birth_date"),
        ({"birth_date": "3012-01-01"}, "birth_date"),
        ({"age_band": "teen"}, "age_band"),
        ({"birth_date": "2000-01-01", "age_band": "18+"}, "age_band"),
        ({"identities": [{"kind": "email", "value": "not-an-email"}]}, "identities[0].value"),
        ({"identities": [{"kind": "fax", "value": "123"}]}, "identities[0].kind"),
    ]
    for change, field in cases:
        body = {"identities": [{"kind": "email", "value": "x@example.com"}], **change}
        r = client.post("/v1/subjects", json=body, headers=t.headers)
        assert (r.status_code, r.json()["error"]["field"]) == (400, field), (change, r.text)
    assert counts(sessions, t.controller_id) == before
