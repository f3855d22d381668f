"""Policy changes: a material change published ahead is told to everyone before its date, shown as an in-app notice
and an announcement, asked about by the banner, and applied on its date."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from charter.consent.services import ConsentLedger
from charter.core.crypto import Keyring
from charter.devmail import DevMail
from charter.operations import PolicyChanges, schedule_change
from charter.operations.models import ChangeStatus
from charter.outbox import Outbox
from charter.policy.services import PolicyStore
from tests.factories import make_controller, policy_text
from tests.outbox.conftest import Clock, make_sender
from tests.retention.estate import NOW, estate, secret_headers
from tests.retention.estate import policy_text as estate_policy

EFFECTIVE = (NOW + dt.timedelta(days=30)).date()


def test_a_material_change_is_told_before_its_date_and_applied_on_it(sessions: sessionmaker[Session],
                                                                     keyring: Keyring, tmp_path: Path) -> None:
    with estate(sessions, keyring, tmp_path) as place, DevMail(web_port=None) as mail:
        cid = place.controller_id
        with sessions() as session, session.begin():
            later = estate_policy(cid, "2.0", effective=EFFECTIVE, with_surveys=True)
            record = PolicyStore(session).publish(cid, later, source="v2.yaml", actor="dpo").record
            change = schedule_change(session, cid, record, actor="dpo")
            assert change is not None
            assert (change.needs_consent, change.purposes, change.status) == (True, ["surveys"], "scheduled")
            assert any("Surveys" in s["en"] for s in change.summary)
        with sessions() as session, session.begin():
            changes = PolicyChanges(session, keyring, clock=lambda: NOW, base_url="https://charter.example")
            assert [c.id for c in changes.notify_due(controller_id=cid)] == [change.id]
            assert changes.notify_due(controller_id=cid) == []
            assert changes.upcoming(cid) is not None
            assert changes.apply_due(controller_id=cid) == []  # not yet
        make_sender(sessions, keyring, mail.smtp_port, Clock()).send_due(controller_id=cid)
        messages = mail.wait_for(4)
        assert all("Surveys" in m.text or "问卷" in m.text for m in messages)
        assert "https://charter.example/center/" in messages[0].text
        with sessions() as session, session.begin():
            ann = place.subjects["ann@example.com"]
            assert [n.template for n in Outbox(session, keyring).notices_for(cid, ann)] == ["policy_change"]
            on_the_day = PolicyChanges(session, keyring, clock=lambda: dt.datetime.combine(
                EFFECTIVE, dt.time(0, 1), dt.UTC))
            [applied] = on_the_day.apply_due(controller_id=cid)
            assert (applied.status, applied.renewals) == (ChangeStatus.EFFECTIVE.value, 0)
            assert on_the_day.upcoming(cid) is None


def test_only_a_future_material_change_is_scheduled(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        cid = make_controller(session)
        store = PolicyStore(session)
        first = store.publish(cid, policy_text(cid), source="p", actor="t").record
        assert schedule_change(session, cid, first, actor="t") is None  # nothing before it
        same = policy_text(cid, "1.1", effective=EFFECTIVE.isoformat())
        record = store.publish(cid, same, source="p", actor="t").record
        assert schedule_change(session, cid, record, actor="t") is None  # only the label and date changed
        now_effective = store.publish(cid, policy_text(cid, "1.2", extra_purpose=True), source="p", actor="t").record
        assert schedule_change(session, cid, now_effective, actor="t") is None  # in effect at once
        session.rollback()


def test_on_the_effective_date_consents_needing_renewal_move_to_needs_reconsent(
        client: TestClient, sessions: sessionmaker[Session], keyring: Keyring, tmp_path: Path) -> None:
    with estate(sessions, keyring, tmp_path) as place:
        cid, ann = place.controller_id, place.subjects["ann@example.com"]
        headers = secret_headers(sessions, cid)
        r = client.post("/v1/consents", json={"subject_id": ann, "purpose": "marketing", "language": "en"},
                        headers=headers)
        assert r.status_code == 201, r.text
        doc = yaml.safe_load(estate_policy(cid, "2.0", effective=EFFECTIVE))
        next(p for p in doc["purposes"] if p["id"] == "marketing")["categories"].append("contact.phone")
        with sessions() as session, session.begin():
            record = PolicyStore(session).publish(cid, yaml.safe_dump(doc, allow_unicode=True), source="v2",
                                                  actor="dpo").record
            change = schedule_change(session, cid, record, actor="dpo")
            assert change is not None and change.purposes == ["marketing"]
        with sessions() as session, session.begin():
            PolicyChanges(session, keyring, clock=lambda: NOW).notify_due(controller_id=cid)
            english = [m for m in Outbox(session, keyring).messages(cid) if m.channel == "email"
                       and Outbox(session, keyring).recipient(m) == "ann@example.com"]
            assert [m.language for m in english] == ["en"]  # the language of her consent
        with sessions() as session, session.begin():
            on_the_day = PolicyChanges(session, keyring, clock=lambda: dt.datetime.combine(
                EFFECTIVE, dt.time(0, 1), dt.UTC))
            [applied] = on_the_day.apply_due(controller_id=cid)
            assert applied.renewals == 1
            states = {s.purpose: s.status for s in ConsentLedger(session, keyring).states(cid, ann)}
            assert states["marketing"] == "superseded"
