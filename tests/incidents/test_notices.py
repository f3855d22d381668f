"""Notices to the people affected: refused without every required element, then sent over real SMTP (DevMail),
in-app and as a public announcement; each step audited."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from charter.announcements import Announcements
from charter.audit.services import AuditLog
from charter.core.crypto import Keyring
from charter.core.errors import CharterError, Conflict
from charter.core.i18n import Lang
from charter.devmail import DevMail
from charter.incidents import AffectedResolver, IncidentNotices, Incidents, MissingElement
from charter.outbox import Outbox
from tests.incidents.helpers import CN_ELEMENTS, incident_in
from tests.outbox.conftest import Clock, make_sender
from tests.retention.estate import Estate, estate


def _incident(sessions: sessionmaker[Session], keyring: Keyring, place: Estate, *, resolve: bool = True) -> str:
    with sessions() as session, session.begin():
        incident_id = Incidents(session).record(place.controller_id, incident_in(), actor="dpo").id
    if resolve:
        AffectedResolver(sessions, keyring, place.secrets).resolve(place.controller_id, incident_id, actor="dpo")
    return incident_id


def test_a_notice_missing_an_element_is_refused_naming_it_and_nothing_is_stored(
        sessions: sessionmaker[Session], keyring: Keyring, tmp_path: Path) -> None:
    with estate(sessions, keyring, tmp_path) as place:
        incident_id = _incident(sessions, keyring, place, resolve=False)
        with sessions() as session:
            incidents = Incidents(session)
            notices = IncidentNotices(session, keyring)
            without_cause = {k: v for k, v in CN_ELEMENTS.items() if k != "cause"}
            with pytest.raises(MissingElement) as err:
                notices.draft(place.controller_id, incident_id, elements=without_cause, channels=["email"],
                              actor="dpo")
            assert (err.value.field, err.value.status) == ("elements.cause", 400)
            assert "cause of the incident" in err.value.message
            with pytest.raises(CharterError) as nowhere:
                notices.draft(place.controller_id, incident_id, elements=CN_ELEMENTS, channels=[], actor="dpo")
            assert nowhere.value.field == "channels"
            assert incidents.notices(incidents.get(place.controller_id, incident_id)) == []
            drafted = notices.draft(place.controller_id, incident_id, elements=CN_ELEMENTS, channels=["email"],
                                    actor="dpo")
            assert drafted.elements["contact"]["en"] == "Complaints: privacy@acme.example"
            with pytest.raises(CharterError, match="not been resolved") as unresolved:
                notices.send(place.controller_id, drafted.id, actor="dpo")
            assert unresolved.value.field == "channels"
            session.rollback()


def test_the_notice_reaches_everyone_affected_by_email_and_in_app_and_is_announced(
        sessions: sessionmaker[Session], keyring: Keyring, tmp_path: Path) -> None:
    with estate(sessions, keyring, tmp_path) as place, DevMail(web_port=None) as mail:
        cid = place.controller_id
        incident_id = _incident(sessions, keyring, place)
        with sessions() as session, session.begin():
            notices = IncidentNotices(session, keyring, language_of=lambda s: (
                Lang.EN if s == place.subjects["bob@example.com"] else Lang.ZH_CN))
            drafted = notices.draft(cid, incident_id, elements=CN_ELEMENTS, channels=["email", "in_app"],
                                    announce=True, actor="dpo")
            sent = notices.send(cid, drafted.id, actor="dpo", page=2)
            assert sent.counts == {"queued": {"email": 4, "in_app": 4}, "already": 0, "suppressed": 0,
                                   "invalid": 0}
            notice_id, announcement_id = sent.id, sent.announcement_id
        report = make_sender(sessions, keyring, mail.smtp_port, Clock()).send_due(controller_id=cid)
        assert report.claimed == 4
        received = {m.to: m for m in mail.wait_for(4)}
        assert set(received) == {"ann@example.com", "bob@example.com", "cai@example.com", "dan@example.com"}
        bob, ann = received["bob@example.com"], received["ann@example.com"]
        assert "security incident" in bob.subject
        for element in CN_ELEMENTS.values():
            assert element.en in bob.text
            assert element.zh in ann.text
        assert "privacy@acme.example" in ann.text
        with sessions() as session:
            assert [n.template for n in Outbox(session, keyring).notices_for(cid, place.subjects["ann@example.com"])
                    ] == ["breach_notice"]
            announcement = Announcements(session).get(cid, announcement_id or "")
            assert announcement.kind == "incident" and "INC-" in announcement.title["en"]
            assert CN_ELEMENTS["remedies"].zh in announcement.body["zh"]
            actions = [e.action for e in AuditLog(session).events(cid, limit=200)]
            assert {"incident.notice_drafted", "incident.notice_sent", "announcement.published"} <= set(actions)
            with pytest.raises(Conflict):
                IncidentNotices(session, keyring).send(cid, notice_id, actor="dpo")
