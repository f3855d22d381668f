"""Decisions through HTTP on SQLite and PostgreSQL: each rule of issue 3 against the example policies, batches,
bad questions, tenant isolation, and the decision log written in batches off the request path."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from charter.decisions.models import DecisionRecord
from tests.factories import Tenant, example_policy_text, make_tenant, publish, register
from tests.web.test_consents_api import decide, grant, lubpur

LUBPUR_ESSENTIAL = ["account", "service", "customer_service", "security", "admin_notices", "cookies_necessary",
                    "legal_disclosure"]


def refuse_all_optional(client: TestClient, t: Tenant, subject: str) -> None:
    for purpose in ("personalisation", "marketing_email", "email_tracking", "analytics", "share_affiliates",
                    "share_partners", "public_disclosure", "cross_border"):
        grant(client, t, subject, purpose, action="refuse")


def test_declining_every_optional_purpose_never_refuses_the_basic_service(
        client: TestClient, sessions: sessionmaker[Session]) -> None:
    """PIPL art. 16; LAN-COLLECT-OPTIONAL."""
    t = lubpur(client, sessions)
    subject = register(client, t)
    refuse_all_optional(client, t, subject)
    for purpose in LUBPUR_ESSENTIAL:
        answer = decide(client, t, subject, purpose)
        assert answer["allowed"], (purpose, answer)
        assert answer["basis"] in ("contract", "legal_duty")
        assert "essential_service" in answer["reasons"]
    assert decide(client, t, subject, "analytics")["reasons"] == ["consent_refused"]


def test_legal_bases_are_named_with_the_policys_exception(client: TestClient, sessions: sessionmaker[Session]) -> None:
    """LUB-EXCEPTIONS: an allowed decision says which PIPL art. 13 basis and which of the eleven cases."""
    t = lubpur(client, sessions)
    subject = register(client, t)
    service = decide(client, t, subject, "service")
    assert (service["basis"], service["exception"]) == ("contract", "contract")
    vital = decide(client, t, subject, "analytics", exception="vital-interests")
    assert (vital["allowed"], vital["basis"], vital["exception"], vital["reasons"]) == (
        True, "emergency", "vital-interests", ["legal_exception"])
    assert decide(client, t, subject, "analytics")["allowed"] is False


def test_sharing_needs_separate_consent_and_a_complete_recipient(
        client: TestClient, sessions: sessionmaker[Session]) -> None:
    t = lubpur(client, sessions)
    subject = register(client, t)
    ask = {"kind": "share", "recipient": "example-ad-analytics-partner"}
    assert decide(client, t, subject, "share_partners", **ask)["reasons"] == ["no_consent"]
    r = client.post("/v1/consents", json={"subject_id": subject, "purpose": "share_partners",
                                          "consent_kind": "general"}, headers=t.headers)
    assert (r.status_code, r.json()["error"]["field"]) == (400, "consent_kind")
    grant(client, t, subject, "share_partners")
    shared = decide(client, t, subject, "share_partners", **ask)
    assert (shared["allowed"], shared["basis"], shared["obligations"]) == (True, "consent", ["log_disclosure"])
    wrong = decide(client, t, subject, "share_partners", kind="share", recipient="example-affiliate")
    assert (wrong["allowed"], wrong["reasons"]) == (False, ["recipient_not_for_purpose"])
    too_much = decide(client, t, subject, "share_partners", **ask, category="basic.phone")
    assert "category_not_for_recipient" in too_much["reasons"]
    authority = decide(client, t, subject, "legal_disclosure", kind="share", recipient="authority")
    assert (authority["allowed"], authority["basis"]) == (True, "legal_duty")

    def drop_contact(doc: dict[str, Any]) -> None:
        doc["recipients"][1].pop("contact")

    r = client.post("/v1/policies", content=example_policy_text(t.controller_id, version="x", edit=drop_contact),
                    headers={**t.headers, "Content-Type": "application/yaml"})
    assert r.status_code == 400  # a recipient without every PIPL art. 23 field cannot even be published
    assert any("contact" in p["path"] for p in r.json()["error"]["problems"])


def test_a_transfer_abroad_needs_a_mechanism_separate_consent_and_an_assessment(
        client: TestClient, sessions: sessionmaker[Session]) -> None:
    t = lubpur(client, sessions)
    subject = register(client, t)
    grant(client, t, subject, "cross_border")
    inside = decide(client, t, subject, "cross_border", kind="transfer", region="CN")
    assert inside["allowed"] and "within_storage_region" in inside["reasons"]
    abroad = decide(client, t, subject, "cross_border", kind="transfer", region="US")
    # Lubpur's bases (the law, explicit consent, the user's own publication) are no PIPL art. 38 mechanism for a
    # consent-based transfer, and it has no assessment on file.
    assert abroad["reasons"] == ["cross_border_no_mechanism", "cross_border_no_impact_assessment"]

    def by_law_only(doc: dict[str, Any]) -> None:
        doc["cross_border"] = {"bases": ["legal_requirement", "explicit_consent"], "impact_assessment_on_file": True}

    lawful = make_tenant(sessions)
    publish(client, lawful, example_policy_text(lawful.controller_id, edit=by_law_only))
    someone = register(client, lawful)
    grant(client, lawful, someone, "cross_border")
    refused = decide(client, lawful, someone, "cross_border", kind="transfer", region="US")
    assert (refused["allowed"], refused["reasons"]) == (False, ["cross_border_no_mechanism"])

    def assessed(doc: dict[str, Any]) -> None:
        doc["cross_border"] = {"bases": ["explicit_consent", "standard_contract"], "impact_assessment_on_file": True}

    other = make_tenant(sessions)
    publish(client, other, example_policy_text(other.controller_id, edit=assessed))
    person = register(client, other)
    assert decide(client, other, person, "cross_border", kind="transfer", region="US")["reasons"] == ["no_consent"]
    grant(client, other, person, "cross_border")
    ok = decide(client, other, person, "cross_border", kind="transfer", region="US")
    assert (ok["allowed"], ok["basis"], ok["obligations"]) == (True, "consent", ["log_transfer"])
    assert decide(client, other, person, "service", kind="transfer", region="US")["reasons"] == [
        "separate_consent_required"]

    landups = make_tenant(sessions)
    publish(client, landups, example_policy_text(landups.controller_id, "landups"))
    someone = register(client, landups)
    out = decide(client, landups, someone, "account", kind="transfer", region="CN")
    assert "cross_border_no_mechanism" in out["reasons"]


def test_restricted_subjects_get_storage_and_security_only(client: TestClient, sessions: sessionmaker[Session]) -> None:
    """PIPL art. 47, last paragraph."""
    t = lubpur(client, sessions)
    subject = register(client, t)
    grant(client, t, subject, "analytics")
    r = client.post(f"/v1/subjects/{subject}/restrict", json={"reason": "legal_hold"}, headers=t.headers)
    assert r.status_code == 200, r.text
    for purpose in ("analytics", "service", "account"):
        answer = decide(client, t, subject, purpose)
        assert (answer["allowed"], answer["reasons"]) == (False, ["subject_restricted"]), purpose
    assert decide(client, t, subject, "service", kind="store")["reasons"] == ["storage_only"]
    assert decide(client, t, subject, "security", kind="secure")["reasons"] == ["security_measure"]
    assert decide(client, t, subject, "analytics", kind="secure")["reasons"] == ["not_a_security_purpose"]
    client.post(f"/v1/subjects/{subject}/lift-restriction", headers=t.headers)
    assert decide(client, t, subject, "analytics")["allowed"]
    r = client.post(f"/v1/subjects/{subject}/restrict", json={"reason": "Mr Wang asked"}, headers=t.headers)
    assert (r.status_code, r.json()["error"]["field"]) == (400, "reason")


def test_a_suspended_account_is_denied_non_essential_processing(
        client: TestClient, sessions: sessionmaker[Session]) -> None:
    """LUB-ACCOUNT-SECURITY."""
    t = lubpur(client, sessions)
    subject = register(client, t)
    grant(client, t, subject, "analytics")
    assert client.post(f"/v1/subjects/{subject}/suspend", json={"reason": "user_report"},
                       headers=t.headers).status_code == 200
    assert decide(client, t, subject, "analytics")["reasons"] == ["account_suspended"]
    assert decide(client, t, subject, "security")["allowed"]
    assert client.post(f"/v1/subjects/{subject}/unsuspend", headers=t.headers).status_code == 200
    assert decide(client, t, subject, "analytics")["allowed"]


def test_a_purpose_nobody_saw_starts_denied(client: TestClient, sessions: sessionmaker[Session]) -> None:
    """LAN-NEW-PURPOSE, LUB-CONSENT-DURATION: a new purpose has no consent until it is asked for."""
    t = make_tenant(sessions)
    publish(client, t, example_policy_text(t.controller_id, "landups"))
    subject = register(client, t)
    grant(client, t, subject, "surveys")

    def research(doc: dict[str, Any]) -> None:
        surveys = next(p for p in doc["purposes"] if p["id"] == "surveys")
        doc["purposes"].append({**surveys, "id": "research", "label": {**surveys["label"], "en": "Research"}})

    publish(client, t, example_policy_text(t.controller_id, "landups", version="2025.1", effective="2025-01-01",
                                           edit=research))
    new = decide(client, t, subject, "research")
    assert (new["allowed"], new["reasons"], new["ask_consent"]) == (False, ["no_consent"], True)
    assert decide(client, t, subject, "surveys")["allowed"]


def test_obligations_for_email_and_analytics(client: TestClient, sessions: sessionmaker[Session]) -> None:
    """LUB-BEACONS no_tracking, the CN 广告/AD subject prefix, unsubscribe link, de-identified analytics."""
    t = lubpur(client, sessions)
    subject = register(client, t)
    grant(client, t, subject, "marketing_email", method="double_opt_in", channel="email")
    mail = decide(client, t, subject, "marketing_email", channel="email")
    assert mail["obligations"] == ["no_tracking", "subject_prefix_ad", "unsubscribe_link"]
    grant(client, t, subject, "email_tracking")
    assert decide(client, t, subject, "marketing_email", channel="email")["obligations"] == [
        "subject_prefix_ad", "unsubscribe_link"]
    grant(client, t, subject, "email_tracking", action="withdraw")
    assert "no_tracking" in decide(client, t, subject, "admin_notices", channel="email")["obligations"]
    grant(client, t, subject, "analytics")
    assert decide(client, t, subject, "analytics", channel="export")["obligations"] == ["deidentify"]

    hk = make_tenant(sessions)
    publish(client, hk, example_policy_text(hk.controller_id, "landups"))
    person = register(client, hk)
    grant(client, hk, person, "recommendations")
    assert decide(client, hk, person, "recommendations", channel="email")["obligations"] == ["unsubscribe_link"]


def test_sensitive_categories_and_publication(client: TestClient, sessions: sessionmaker[Session]) -> None:
    t = lubpur(client, sessions)
    subject = register(client, t)
    voice = decide(client, t, subject, "customer_service", kind="sensitive", category="other.voice")
    assert (voice["allowed"], voice["basis"], voice["obligations"]) == (True, "contract", ["encrypt"])
    assert decide(client, t, subject, "analytics", category="online.browsing")["reasons"][0] == (
        "category_not_in_purpose")
    assert decide(client, t, subject, "public_disclosure", kind="publish")["reasons"] == ["no_consent"]
    grant(client, t, subject, "public_disclosure")
    assert decide(client, t, subject, "public_disclosure", kind="publish")["allowed"]
    grant(client, t, subject, "personalisation")
    assert decide(client, t, subject, "personalisation", kind="publish")["reasons"] == [
        "not_a_public_disclosure_purpose", "separate_consent_required"]


def test_batch_answers_in_order(client: TestClient, sessions: sessionmaker[Session]) -> None:
    t = lubpur(client, sessions)
    a, b = register(client, t), register(client, t)
    grant(client, t, a, "analytics")
    r = client.post("/v1/decisions", json=[{"subject_id": a, "purpose": "analytics"},
                                           {"subject_id": b, "purpose": "analytics"},
                                           {"subject_id": b, "purpose": "service"}], headers=t.headers)
    assert r.status_code == 200, r.text
    assert [d["allowed"] for d in r.json()] == [True, False, True]


BAD_QUESTIONS = [  # (case, question change, status, field)
    ("unknown purpose", {"purpose": "analytcs"}, 400, "purpose"),
    ("unknown recipient", {"kind": "share", "recipient": "acme"}, 400, "recipient"),
    ("share without recipient", {"kind": "share"}, 400, "recipient"),
    ("unknown category", {"category": "basic.shoe_size"}, 400, "category"),
    ("bad region", {"kind": "transfer", "region": "Mars"}, 400, "region"),
    ("unknown kind", {"kind": "sell"}, 400, "kind"),
    ("unknown exception", {"exception": "because"}, 400, "exception"),
    ("unknown field", {"colour": "blue"}, 400, "colour"),
    ("unknown subject", {"subject_id": "00000000-0000-4000-8000-000000000000"}, 404, "subject_id"),
    ("malformed subject", {"subject_id": "me"}, 400, "subject_id"),
    ("number as purpose", {"purpose": 7}, 400, "purpose"),
]


@pytest.mark.parametrize("bad", BAD_QUESTIONS, ids=[b[0] for b in BAD_QUESTIONS])
def test_bad_questions_name_the_field(client: TestClient, sessions: sessionmaker[Session],
                                      bad: tuple[str, dict[str, Any], int, str]) -> None:
    case, change, status, field = bad
    t = lubpur(client, sessions)
    subject = register(client, t)
    r = client.post("/v1/decisions", json={"subject_id": subject, "purpose": "analytics", **change},
                    headers=t.headers)
    assert (r.status_code, r.json()["error"]["field"]) == (status, field), (case, r.text)
    r = client.post("/v1/decisions", json=[{"subject_id": subject, "purpose": "service"},
                                           {"subject_id": subject, "purpose": "analytics", **change}],
                    headers=t.headers)
    assert (r.status_code, r.json()["error"]["field"]) == (status, f"[1].{field}"), (case, r.text)


def test_keys_decide_only_for_their_own_controller(client: TestClient, sessions: sessionmaker[Session]) -> None:
    owner, stranger = lubpur(client, sessions), lubpur(client, sessions)
    subject = register(client, owner)
    assert decide(client, owner, subject, "service")["allowed"]
    r = client.post("/v1/decisions", json={"subject_id": subject, "purpose": "service"}, headers=stranger.headers)
    assert (r.status_code, r.json()["error"]["field"]) == (404, "subject_id")
    r = client.post("/v1/decisions", json={"subject_id": subject, "purpose": "service"},
                    headers={"Authorization": f"Bearer {owner.publishable}"})
    assert r.status_code == 403
    assert client.post("/v1/decisions", json={"subject_id": subject, "purpose": "service"}).status_code == 401


def test_allowed_non_essential_decisions_are_logged_in_batches(
        client: TestClient, sessions: sessionmaker[Session]) -> None:
    t = lubpur(client, sessions)
    subject = register(client, t)
    record = grant(client, t, subject, "analytics")
    for _ in range(3):
        assert decide(client, t, subject, "analytics")["allowed"]
    decide(client, t, subject, "service")  # essential: not logged
    decide(client, t, subject, "personalisation")  # denied: not logged
    decider = client.app.state.decider  # type: ignore[attr-defined]
    decider.flush()
    with sessions() as s:
        rows = s.execute(select(DecisionRecord).where(DecisionRecord.controller_id == t.controller_id)).scalars().all()
    # The background thread may have flushed part of it already: identical decisions merge per flush.
    assert {(r.purpose, r.basis, r.consent_record_id) for r in rows} == {("analytics", "consent", record["record_id"])}
    assert sum(r.count for r in rows) == 3
