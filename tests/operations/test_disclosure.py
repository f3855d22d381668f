"""Compelled disclosure: the person is told promptly, or when a lawful restriction with an expiry ends."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from charter.audit.services import AuditLog
from charter.core.crypto import Keyring
from charter.core.errors import CharterError
from charter.devmail import DevMail
from charter.operations import Disclosures, disclosure_register
from charter.outbox import Outbox
from tests.outbox.conftest import Clock, make_sender
from tests.retention.estate import NOW, estate


def test_without_a_restriction_the_person_is_told_at_once(sessions: sessionmaker[Session], keyring: Keyring,
                                                          tmp_path: Path) -> None:
    with estate(sessions, keyring, tmp_path) as place, DevMail(web_port=None) as mail:
        cid, ann = place.controller_id, place.subjects["ann@example.com"]
        with sessions() as session, session.begin():
            disclosure = Disclosures(session, keyring).record(
                cid, subject_id=ann, authority="Shanghai Public Security Bureau", grounds="CPL art. 54",
                reference="SH-2025-77", disclosed_at=NOW, categories=["contact.email", "device.ip"], actor="legal")
            assert disclosure.notified_at is not None
        make_sender(sessions, keyring, mail.smtp_port, Clock()).send_due(controller_id=cid)
        [message] = mail.wait_for(1)
        assert message.to == "ann@example.com"
        assert "Shanghai Public Security Bureau" in message.text and "IP地址" in message.text
        with sessions() as session:
            assert [n.template for n in Outbox(session, keyring).notices_for(cid, ann)] == ["disclosure_notice"]
            actions = [e.action for e in AuditLog(session).events(cid, limit=50)]
            assert "disclosure.notified" in actions and "disclosure.recorded" in actions


def test_a_restriction_defers_the_notice_until_it_ends(sessions: sessionmaker[Session], keyring: Keyring,
                                                       tmp_path: Path) -> None:
    with estate(sessions, keyring, tmp_path) as place:
        cid, bob = place.controller_id, place.subjects["bob@example.com"]
        until = NOW + dt.timedelta(days=90)
        with sessions() as session, session.begin():
            disclosure = Disclosures(session, keyring, clock=lambda: NOW).record(
                cid, subject_id=bob, authority="Court", grounds="Order 12", disclosed_at=NOW,
                categories=["contact.email"], restriction_basis="Order 12 forbids notice for 90 days",
                restricted_until=until, actor="legal")
            assert disclosure.notified_at is None
            assert Outbox(session, keyring).messages(cid) == []
            early = Disclosures(session, keyring, clock=lambda: NOW + dt.timedelta(days=89))
            assert early.release_due(controller_id=cid) == []
            released = Disclosures(session, keyring, clock=lambda: until).release_due(controller_id=cid)
            assert [d.id for d in released] == [disclosure.id]
            assert {m.template for m in Outbox(session, keyring).messages(cid)} == {"disclosure_notice"}
            assert Disclosures(session, keyring, clock=lambda: until).release_due(controller_id=cid) == []
            assert "Order 12" in disclosure_register(Disclosures(session, keyring).all(cid))


@pytest.mark.parametrize(("change", "field"), [
    ({"restriction_basis": "Order 9"}, "restricted_until"),
    ({"restricted_until": NOW + dt.timedelta(days=3)}, "restriction_basis"),
    ({"restriction_basis": "Order 9", "restricted_until": NOW - dt.timedelta(days=1)}, "restricted_until"),
    ({"authority": ""}, "authority"),
    ({"categories": []}, "categories"),
    ({"categories": ["secrets"]}, "categories[0]"),
    ({"subject_id": "nobody"}, "subject_id"),
])
def test_bad_records_name_the_field(sessions: sessionmaker[Session], keyring: Keyring, tmp_path: Path,
                                    change: dict[str, object], field: str) -> None:
    with estate(sessions, keyring, tmp_path) as place, sessions() as session:
        values: dict[str, object] = {"subject_id": place.subjects["dan@example.com"], "authority": "Court",
                                     "grounds": "Order", "disclosed_at": NOW, "categories": ["contact.email"]}
        values.update(change)
        with pytest.raises(CharterError) as err:
            Disclosures(session, keyring).record(place.controller_id, actor="legal", **values)  # type: ignore[arg-type]
        assert err.value.field == field
        session.rollback()
