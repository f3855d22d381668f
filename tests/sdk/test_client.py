"""The SDK against the real app (its `httpx.Client` is the FastAPI TestClient) on SQLite and PostgreSQL, and the
decider a host embeds, refreshed when consents change through the SDK or anywhere else."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from charter.decisions.models import DecisionRecord
from charter.sdk import CharterAPIError, Client
from tests.factories import Tenant, example_policy_text, make_tenant, publish

GUARDIAN = {"name": "李雷", "relationship": "parent", "contact": "lilei@example.com",
            "verification_method": "sms_code", "verified_at": "2025-02-01T08:00:00+08:00", "rules_version": "2023-05"}


@pytest.fixture
def tenant(client: TestClient, sessions: sessionmaker[Session]) -> Tenant:
    t = make_tenant(sessions)
    publish(client, t, example_policy_text(t.controller_id))
    return t


@pytest.fixture
def charter(client: TestClient, tenant: Tenant) -> Iterator[Client]:
    with Client("http://testserver", tenant.secret, http=client) as sdk:
        yield sdk


def test_register_record_decide_withdraw(charter: Client) -> None:
    person = charter.register(email="wang.fang@example.com", phone="+86 138 0013 8000")
    assert (person.created, person.is_minor) == (True, False)
    assert charter.register(email="Wang.Fang@example.com").subject_id == person.subject_id
    assert charter.decide(person.subject_id, "marketing_email").reasons == ("no_consent",)
    record = charter.record_consent(person.subject_id, "marketing_email", channel="email", method="double_opt_in",
                                    evidence={"ip": "203.0.113.5", "request_id": "req-9"})
    decision = charter.decide(person.subject_id, "marketing_email", channel="email")
    assert (decision.allowed, decision.basis) == (True, "consent")
    assert decision.obligations == ("no_tracking", "subject_prefix_ad", "unsubscribe_link")
    charter.withdraw(person.subject_id, "marketing_email", channel="email", method="unsubscribe_link")
    assert charter.decide(person.subject_id, "marketing_email").reasons == ("consent_withdrawn",)
    history = charter.consents(person.subject_id, history=True)["history"]
    assert [e["action"] for e in history] == ["grant", "withdraw"]
    assert charter.receipt(record.record_id)["event"]["type"] == "given"
    answers = charter.decide_many([{"subject_id": person.subject_id, "purpose": "service"},
                                   {"subject_id": person.subject_id, "purpose": "analytics"}])
    assert [a.allowed for a in answers] == [True, False]


def test_policy_acceptance_through_the_sdk(charter: Client, client: TestClient, tenant: Tenant) -> None:
    """LUB-ACCEPT: registering with `accept_policy` records the version accepted; `needs_acceptance` says when to ask
    (never accepted, or a change asks again) and `accept_policy` records the new acceptance."""
    person = charter.register(email="accepts@example.com", accept_policy={
        "channel": "web", "evidence": {"ip": "203.0.113.9", "request_id": "reg-42"}})
    assert person.acceptance is not None
    assert (person.acceptance.purpose, person.acceptance.action, person.acceptance.status) == (
        "policy", "accept", "accepted")
    assert not charter.needs_acceptance(person.subject_id)
    assert charter.receipt(person.acceptance.record_id)["event"]["type"] == "accepted"
    other = charter.register(email="silent@example.com")
    assert other.acceptance is None and charter.needs_acceptance(other.subject_id)
    assert charter.decide(person.subject_id, "analytics").reasons == ("no_consent",)  # no consent implied

    def drop_a_right(doc: dict[str, Any]) -> None:
        doc["rights"][0]["channels"] = ["customer_service"]  # self-service access taken away

    publish(client, tenant, example_policy_text(tenant.controller_id, version="2024-01", effective="2024-01-01",
                                                edit=drop_a_right))
    assert charter.needs_acceptance(person.subject_id)
    again = charter.accept_policy(person.subject_id, policy_version="2024-01", channel="app")
    assert (again.purpose, again.seq) == ("policy", person.acceptance.seq + 1)
    assert not charter.needs_acceptance(person.subject_id)
    history = charter.consents(person.subject_id, history=True)["history"]
    assert [(e["action"], e["policy_version"]) for e in history] == [("accept", "2023-05"), ("accept", "2024-01")]
    with pytest.raises(CharterAPIError) as err:
        charter.accept_policy(person.subject_id, policy_version="1999")
    assert (err.value.status, err.value.field) == (404, "policy_version")


def test_minors_through_the_sdk(charter: Client) -> None:
    child = charter.register(email="kid@example.com", birth_date="2016-06-01")
    assert (child.is_minor, child.needs_guardian) == (True, True)
    assert not charter.decide(child.subject_id, "service").allowed
    charter.record_consent(child.subject_id, "minors", action="guardian_grant", guardian=GUARDIAN)
    assert charter.decide(child.subject_id, "service").allowed


def test_errors_name_the_field(charter: Client) -> None:
    person = charter.register(email="err@example.com")
    with pytest.raises(CharterAPIError) as err:
        charter.record_consent(person.subject_id, "telepathy")
    assert (err.value.status, err.value.field) == (400, "purpose")
    with pytest.raises(CharterAPIError) as err:
        charter.register(email="kid2@example.com", birth_date="2012-02-30")
    assert err.value.field == "birth_date"
    with pytest.raises(CharterAPIError) as err:
        charter.decide("00000000-0000-4000-8000-000000000000", "service")
    assert (err.value.status, err.value.field) == (404, "subject_id")


def test_linked_accounts_are_linked_and_unlinked_through_the_sdk(charter: Client) -> None:
    """LAN-ACCOUNT-LINK: two accounts of one person are one subject until the link is removed."""
    linked = charter.identify([("account_id", "LU0000000042"), ("account_id", "wang_site")])
    assert charter.identify([("account_id", "wang_site")]).subject_id == linked.subject_id
    assert charter.unlink_identity(linked.subject_id, "account_id", "wang_site") is True
    assert charter.unlink_identity(linked.subject_id, "account_id", "wang_site") is False  # already gone
    assert charter.identify([("account_id", "wang_site")]).subject_id != linked.subject_id  # a stranger now
    with pytest.raises(CharterAPIError) as err:  # the last identity stays: nobody could name the person otherwise
        charter.unlink_identity(linked.subject_id, "account_id", "LU0000000042")
    assert (err.value.status, err.value.field) == (409, "value")
    with pytest.raises(CharterAPIError) as err:
        charter.unlink_identity(linked.subject_id, "telepathy", "x")
    assert (err.value.status, err.value.field) == (400, "kind")
    assert charter.identify([("account_id", "LU0000000042")]).subject_id == linked.subject_id


def test_suspension_through_the_sdk(charter: Client) -> None:
    person = charter.register(email="susp@example.com")
    charter.record_consent(person.subject_id, "analytics")
    charter.suspend(person.subject_id)
    assert charter.decide(person.subject_id, "analytics").reasons == ("account_suspended",)
    charter.unsuspend(person.subject_id)
    assert charter.decide(person.subject_id, "analytics").allowed


def test_the_embedded_decider_follows_changes_and_logs_centrally(
        charter: Client, client: TestClient, tenant: Tenant, sessions: sessionmaker[Session]) -> None:
    person = charter.register(email="local@example.com")
    record = charter.record_consent(person.subject_id, "analytics")
    local = charter.decider(tenant.controller_id, refresh_every=3600)
    assert local.decide(person.subject_id, "analytics").allowed
    assert local.decide(person.subject_id, "analytics").allowed  # from memory
    charter.withdraw(person.subject_id, "analytics")  # through this client: forgotten at once
    assert local.decide(person.subject_id, "analytics").reasons == ("consent_withdrawn",)
    # A change made elsewhere (another server, the banner) reaches it on refresh.
    r = client.post("/v1/consents", json={"subject_id": person.subject_id, "purpose": "analytics"},
                    headers=tenant.headers)
    assert r.status_code == 201
    assert local.decide(person.subject_id, "analytics").allowed is False
    local.refresh()
    assert local.decide(person.subject_id, "analytics").allowed
    client.post(f"/v1/subjects/{person.subject_id}/restrict", json={"reason": "legal_hold"}, headers=tenant.headers)
    local.refresh()
    assert local.decide(person.subject_id, "analytics").reasons == ("subject_restricted",)
    assert local.decide(person.subject_id, "service", kind="store").allowed
    local.close()
    with sessions() as s:
        rows = s.execute(select(DecisionRecord).where(DecisionRecord.controller_id == tenant.controller_id,
                                                      DecisionRecord.purpose == "analytics")).scalars().all()
    assert sum(r.count for r in rows) >= 3
    assert record.record_id in {r.consent_record_id for r in rows}
