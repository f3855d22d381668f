"""Data-subject requests through HTTP on SQLite and PostgreSQL, carried out for real in the shop's tables: access
with its bundle, withdrawal and restriction felt in the next decision, explanation and appeal; every bad input
of the issue (unknown identity type, unknown person, wrong and expired codes and the lockout, a data map naming
a table or column that is not there) answered clearly with nothing written or lost; and every endpoint answering
another controller's key with 404."""

from __future__ import annotations

import datetime as dt
import io
import time
import zipfile
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from charter.datamap.services import DataMapStore
from charter.outbox.models import OutboxMessage
from charter.requests.models import VerificationChallenge
from charter.subjects.services import SubjectDirectory
from tests.connectors.shop_tables import customers, table_rows
from tests.requests.world import ANN_EMAIL, ANN_PHONE, World, shop_map_text
from tests.web.request_world import (
    api_world,
    finish_manual,
    footprint,
    status,
    stranger,
    submit,
    verified,
)

__all__ = ["api_world"]


def _templates_to(sessions: sessionmaker[Session], cid: str) -> list[str]:
    with sessions() as s:
        return sorted(m.template for m in s.query(OutboxMessage).filter(OutboxMessage.controller_id == cid))


def test_access_request_end_to_end_with_its_bundle_for_the_token_holder_only(
        client: TestClient, sessions: sessionmaker[Session], api_world: World) -> None:
    world = api_world
    rid, token = verified(client, world, "access")
    finish_manual(client, world)
    body = status(client, world, rid, token)
    assert body["status"] == "completed" and body["tasks"] is None and body["error"] is None
    auth = {**world.tenant.headers, "Charter-Request-Token": token}
    bundle = client.get(f"/v1/requests/{rid}/bundle", params={"format": "json"}, headers=auth).json()
    assert bundle["schema"] == "charter.access-bundle/v1"
    assert any(r.get("email") == ANN_EMAIL for r in bundle["collections"]["shop_db.customers"])
    assert "What we hold" in client.get(f"/v1/requests/{rid}/bundle", params={"format": "html"}, headers=auth).text
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"/v1/requests/{rid}/bundle", headers=auth).content))
    assert {"bundle.json", "report.html", "csv/shop_db.customers.csv"} <= set(archive.namelist())
    portable = client.get(f"/v1/requests/{rid}/bundle", params={"format": "portability"}, headers=auth).json()
    assert portable["schema"] == "charter.portability/v1"
    for headers in (world.tenant.headers, {**world.tenant.headers, "Charter-Request-Token": "guess"}):
        assert client.get(f"/v1/requests/{rid}", headers=headers).status_code == 404
        assert client.get(f"/v1/requests/{rid}/bundle", headers=headers).status_code == 404


def test_every_request_endpoint_answers_another_controllers_key_with_not_found(
        client: TestClient, sessions: sessionmaker[Session], api_world: World) -> None:
    world = api_world
    rid, token = verified(client, world, "access")
    other = stranger(sessions)
    before = footprint(sessions, world.cid)
    theirs = {**other.headers, "Charter-Request-Token": token}
    for method, path, body in (("GET", f"/v1/requests/{rid}", None), ("GET", f"/v1/requests/{rid}/bundle", None),
                               ("POST", f"/v1/requests/{rid}/verify", {"code": "123456"}),
                               ("POST", f"/v1/requests/{rid}/resend", None),
                               ("POST", f"/v1/requests/{rid}/appeal", {"statement": "please review"})):
        answer = client.request(method, path, json=body, headers=theirs)
        assert answer.status_code == 404, (path, answer.text)
        assert answer.json()["error"]["code"] == "not_found"
    assert footprint(sessions, world.cid) == before
    # The publishable key may submit and read too (the privacy centre's banner-side calls), never across tenants.
    assert client.get(f"/v1/requests/{rid}", headers={"Authorization": f"Bearer {other.publishable}",
                                                      "Charter-Request-Token": token}).status_code == 404


def test_an_unknown_person_gets_the_same_answer_and_no_code_and_can_never_verify(
        client: TestClient, sessions: sessionmaker[Session], api_world: World) -> None:
    world = api_world
    known = submit(client, world, "erasure")
    unknown = submit(client, world, "erasure", value="nobody@example.com")
    assert set(known) == set(unknown)
    assert (known["status"], known["verification"]) == (unknown["status"], unknown["verification"]) == \
        ("received", "code_sent")
    assert _templates_to(sessions, world.cid) == ["verification_code"]  # only Ann's
    wrong = client.post(f"/v1/requests/{known['request_id']}/verify", headers=world.tenant.headers,
                        json={"code": "000000" if world.last_code() != "000000" else "111111"})
    guess = client.post(f"/v1/requests/{unknown['request_id']}/verify", headers=world.tenant.headers,
                        json={"code": world.last_code()})
    assert wrong.status_code == guess.status_code == 400
    assert wrong.json() == guess.json()
    assert client.post(f"/v1/requests/{unknown['request_id']}/resend", headers=world.tenant.headers).json() == \
        {"status": "code_sent"}
    assert _templates_to(sessions, world.cid) == ["verification_code"]


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "access", "identity": {"kind": "passport", "value": "E1234"}}, "identity.kind"),
    ({"kind": "forget_me", "identity": {"kind": "email", "value": ANN_EMAIL}}, "kind"),
    ({"kind": "access"}, "identity"),
    ({"kind": "access", "identity": {"kind": "email", "value": "not an email"}}, "identity.value"),
    ({"kind": "withdrawal", "identity": {"kind": "email", "value": ANN_EMAIL}}, "params.purposes"),
    ({"kind": "withdrawal", "identity": {"kind": "email", "value": ANN_EMAIL}, "params": {"purposes": ["account"]}},
     "params.purposes"),
    ({"kind": "rectification", "identity": {"kind": "email", "value": ANN_EMAIL}, "params": {"category": "x"}},
     "params.value"),
    ({"kind": "access", "assertion": "v1.bogus.sig"}, "assertion"),
])
def test_bad_submissions_are_refused_with_the_field_and_write_nothing(
        client: TestClient, sessions: sessionmaker[Session], api_world: World, body: dict[str, object],
        field: str) -> None:
    world = api_world
    before = footprint(sessions, world.cid)
    answer = client.post("/v1/requests", headers=world.tenant.headers, json=body)
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["field"] == field and error["message"]
    assert footprint(sessions, world.cid) == before


def test_wrong_codes_lock_out_and_an_expired_code_fails_leaving_the_request_unverified(
        client: TestClient, sessions: sessionmaker[Session], api_world: World) -> None:
    world = api_world
    rid = submit(client, world, "erasure")["request_id"]
    code = world.last_code()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        answer = client.post(f"/v1/requests/{rid}/verify", headers=world.tenant.headers, json={"code": wrong})
        assert answer.status_code == 400 and answer.json()["error"]["field"] == "code"
    locked = client.post(f"/v1/requests/{rid}/verify", headers=world.tenant.headers, json={"code": code})
    assert locked.status_code == 429 and locked.json()["error"]["code"] == "verification_locked"
    with sessions() as session, session.begin():
        challenge = session.get(VerificationChallenge, rid)
        assert challenge is not None
        challenge.locked_until = None
        challenge.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    expired = client.post(f"/v1/requests/{rid}/verify", headers=world.tenant.headers, json={"code": code})
    assert expired.status_code == 400 and "expired" in expired.json()["error"]["message"]
    staff = client.get(f"/v1/admin/requests/{rid}", headers=world.tenant.headers).json()
    assert (staff["status"], staff["tasks"]) == ("received", [])
    assert table_rows(world.shop_url, customers)[0]["email"] == ANN_EMAIL


@pytest.mark.parametrize("missing", ["column", "table"])
def test_a_data_map_naming_a_missing_table_or_column_fails_the_request_visibly_and_erases_nothing(
        client: TestClient, sessions: sessionmaker[Session], api_world: World, missing: str) -> None:
    world = api_world
    broken = shop_map_text(world.cid, version="2")
    broken = broken.replace("name: postcode", "name: postcode_gone") if missing == "column" else \
        broken.replace("name: addresses", "name: addresses_gone").replace("addresses.id", "addresses_gone.id")
    with sessions() as session, session.begin():
        DataMapStore(session).publish(world.cid, broken, source="datamap.yaml", actor="test")
    before = table_rows(world.shop_url, customers)
    rid, token = verified(client, world, "erasure")
    seen = status(client, world, rid, token)
    assert seen["status"] == "failed"
    assert "addresses" in seen["error"]
    staff = client.get(f"/v1/admin/requests/{rid}", headers=world.tenant.headers).json()
    failed = [t for t in staff["tasks"] if t["status"] == "failed"]
    assert len(failed) == 1 and failed[0]["operation"] == "retrieve" and failed[0]["error"]
    assert all(t["status"] == "pending" for t in staff["tasks"] if t["operation"] == "erase")
    assert table_rows(world.shop_url, customers) == before  # nothing erased, nothing half-done
    if missing == "column":
        # Put the store right, retry: the request carries on from the failed task and completes.
        engine = create_engine(world.shop_url)
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE addresses ADD COLUMN postcode_gone VARCHAR(20)"))
        engine.dispose()
        retried = client.post(f"/v1/admin/requests/{rid}/retry", headers=world.tenant.headers)
        assert retried.status_code == 200, retried.text
        assert world.worker.wait_idle(30)
        finish_manual(client, world)
        staff = client.get(f"/v1/admin/requests/{rid}", headers=world.tenant.headers).json()
        assert status(client, world, rid, token)["status"] == "completed_with_held_items", staff["error"]
        assert table_rows(world.shop_url, customers)[0]["email"].startswith("hmac:")


def _eventually(client: TestClient, headers: dict[str, str], ask: dict[str, str]) -> dict[str, Any]:
    """The API's decision once it is a denial. The worker commits through sessions of its own, as `charter worker`
    does from another process: the API's decider follows the change feed within its refresh interval (0.5 s)."""
    deadline = time.monotonic() + 5
    while True:
        answer: dict[str, Any] = client.post("/v1/decisions", headers=headers, json=ask).json()
        if not answer["allowed"] or time.monotonic() > deadline:
            return answer
        time.sleep(0.05)


def test_withdrawal_and_restriction_over_http_take_effect_in_the_next_decision(
        client: TestClient, sessions: sessionmaker[Session], api_world: World) -> None:
    world = api_world
    headers = world.tenant.headers
    assert client.post("/v1/consents", headers=headers, json={"subject_id": world.ann, "purpose": "marketing"}) \
        .status_code == 201
    ask = {"subject_id": world.ann, "purpose": "marketing"}
    assert client.post("/v1/decisions", headers=headers, json=ask).json()["allowed"]
    rid, token = verified(client, world, "withdrawal", purposes=["marketing"])
    assert status(client, world, rid, token)["status"] == "completed"
    assert _eventually(client, headers, ask)["reasons"] == ["consent_withdrawn"]
    history = client.get(f"/v1/subjects/{world.ann}/consents", params={"history": "true"}, headers=headers).json()
    assert [e["action"] for e in history["history"]] == ["grant", "withdraw"]
    rid, token = verified(client, world, "restriction")
    assert status(client, world, rid, token)["status"] == "completed"
    used = _eventually(client, headers, {"subject_id": world.ann, "purpose": "account"})
    assert not used["allowed"] and "subject_restricted" in used["reasons"]
    kept = client.post("/v1/decisions", headers=headers,
                       json={"subject_id": world.ann, "purpose": "account", "kind": "store"}).json()
    assert kept["allowed"]


def test_explanation_of_an_automated_decision_and_an_appeal_decided_by_staff(
        client: TestClient, sessions: sessionmaker[Session], api_world: World) -> None:
    world = api_world
    headers = world.tenant.headers
    made = client.post("/v1/automated-decisions", headers=headers, json={
        "subject_id": world.ann, "kind": "credit_limit", "logic_version": "2024.3", "outcome": "declined",
        "inputs": {"orders_last_year": 1}, "explanation": {"zh": "订单太少", "en": "Too few orders last year"}})
    assert made.status_code == 201, made.text
    decision_id = made.json()["id"]
    rid, token = verified(client, world, "explanation", decision_id=decision_id)
    assert status(client, world, rid, token)["status"] == "completed"
    assert "decision_explanation" in _templates_to(sessions, world.cid)
    auth = {**headers, "Charter-Request-Token": token}
    appeal = client.post(f"/v1/requests/{rid}/appeal", headers=auth, json={"statement": "I ordered twice"})
    assert appeal.status_code == 201, appeal.text
    again = client.post(f"/v1/requests/{rid}/appeal", headers=auth, json={"statement": "again"})
    assert again.status_code == 409
    other = stranger(sessions)
    assert client.get("/v1/admin/appeals", headers=other.headers).json() == []
    appeal_id = appeal.json()["appeal_id"]
    assert client.post(f"/v1/admin/appeals/{appeal_id}/decide", headers=other.headers,
                       json={"outcome": "overturned", "note": "x"}).status_code == 404
    listed = client.get("/v1/admin/appeals", headers=headers).json()
    assert [(a["id"], a["statement"]) for a in listed] == [(appeal_id, "I ordered twice")]
    bad = client.post(f"/v1/admin/appeals/{appeal_id}/decide", headers=headers, json={"outcome": "maybe", "note": "x"})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "outcome"
    decided = client.post(f"/v1/admin/appeals/{appeal_id}/decide", headers=headers,
                          json={"outcome": "overturned", "note": "A reviewer counted two orders."})
    assert decided.status_code == 200 and decided.json()["status"] == "overturned"
    # An access request cannot be appealed.
    rid, token = verified(client, world, "restriction")
    refused = client.post(f"/v1/requests/{rid}/appeal", headers={**headers, "Charter-Request-Token": token},
                          json={"statement": "why"})
    assert refused.status_code == 400


def _rectify(client: TestClient, world: World, category: str, value: str) -> tuple[str, str]:
    asked = client.post("/v1/requests", headers=world.tenant.headers, json={
        "kind": "rectification", "identity": {"kind": "email", "value": ANN_EMAIL}, "language": "en",
        "params": {"category": category, "value": value}})
    assert asked.status_code == 202, asked.text
    rid = asked.json()["request_id"]
    checked = client.post(f"/v1/requests/{rid}/verify", headers=world.tenant.headers,
                          json={"code": world.last_code()})
    assert checked.status_code == 200, checked.text
    assert world.worker.wait_idle(30)
    return rid, checked.json()["token"]


def test_rectification_over_http_reaches_every_store_holding_the_field_and_every_recipient(
        client: TestClient, sessions: sessionmaker[Session], api_world: World) -> None:
    """LUB-RECTIFY: the phone number is held by the shop's customers table and by the archive staff keep by
    hand; the correction changes the first, becomes a task for staff for the second, and the recipient the
    person's data went to is told — and nothing of anyone else changes."""
    world = api_world
    headers = world.tenant.headers
    disclosed = {"subject_id": world.ann, "recipient": "mailer", "categories": ["contact.email"],
                 "purpose": "marketing"}
    assert client.post("/v1/disclosures", headers=headers, json=disclosed).status_code == 201
    bob_before = next(r for r in table_rows(world.shop_url, customers) if r["id"] == 2)
    bad = client.post("/v1/requests", headers=headers, json={
        "kind": "rectification", "identity": {"kind": "email", "value": ANN_EMAIL},
        "params": {"category": "contact.phone"}})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "params.value"
    ann_before = next(r for r in table_rows(world.shop_url, customers) if r["id"] == 1)
    rid, token = _rectify(client, world, "contact.phone", "call me maybe")
    failed = status(client, world, rid, token)
    assert failed["status"] == "failed" and "not a valid phone" in failed["error"]
    assert next(r for r in table_rows(world.shop_url, customers) if r["id"] == 1) == ann_before
    rid, token = _rectify(client, world, "contact.phone", "+86 137 0013 7000")
    waiting = client.get("/v1/admin/manual-tasks", headers=headers).json()
    assert [(t["collection"], t["operation"], t["fields"]) for t in waiting] == [
        ("archive.contracts", "rectify", ["phone"])]
    assert status(client, world, rid, token)["status"] == "executing"
    finish_manual(client, world)
    body = status(client, world, rid, token)
    assert body["status"] == "completed"
    assert [(r["recipient"], r["action"]) for r in body["recipients"]] == [("mailer", "rectification")]
    ann = next(r for r in table_rows(world.shop_url, customers) if r["id"] == 1)
    assert ann["phone"] == "+8613700137000"  # normalised as Charter normalises phone numbers
    assert next(r for r in table_rows(world.shop_url, customers) if r["id"] == 2) == bob_before
    assert "recipient_notice" in _templates_to(sessions, world.cid)
    # Charter's own directory knows Ann by the corrected number now, and no longer by the one it replaced.
    with sessions() as s:
        directory = SubjectDirectory(s, client.app.state.keyring)  # type: ignore[attr-defined]
        found = directory.find(world.cid, "phone", "+86 137 0013 7000")
        assert found is not None and found.id == world.ann
        assert directory.find(world.cid, "phone", ANN_PHONE) is None
        assert [i.kind.value for i in directory.identities(world.cid, world.ann)].count("phone") == 1
    staff = client.get(f"/v1/admin/requests/{rid}", headers=headers).json()
    rectified = [t for t in staff["tasks"] if t["operation"] == "rectify"]
    assert {(t["collection"], t["status"]) for t in rectified} == {("shop_db.customers", "done"),
                                                                   ("archive.contracts", "done")}
