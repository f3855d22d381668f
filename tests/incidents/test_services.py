"""Recording incidents, filing with regulators and the clocks, on a real database."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from charter.audit.services import AuditLog
from charter.core.crypto import Keyring
from charter.core.errors import CharterError, Conflict
from charter.incidents import ClockStatus, Incidents
from tests.incidents.helpers import incident_in
from tests.retention.estate import NOW, estate


@pytest.mark.parametrize(("change", "field"), [
    ({"title": "  "}, "title"),
    ({"categories": []}, "categories"),
    ({"categories": ["contact.email", "health.record"]}, "categories[1]"),
    ({"systems": ["nowhere"]}, "systems[0]"),
    ({"systems": []}, "systems"),
    ({"discovered_at": NOW + dt.timedelta(days=1)}, "discovered_at"),
    ({"occurred_from": NOW, "occurred_until": NOW - dt.timedelta(days=1)}, "occurred_until"),
    ({"people_estimate": -1}, "people_estimate"),
])
def test_a_bad_record_names_the_field(sessions: sessionmaker[Session], keyring: Keyring, tmp_path: Path,
                                      change: dict[str, object], field: str) -> None:
    with estate(sessions, keyring, tmp_path) as place, sessions() as session:
        with pytest.raises(CharterError) as err:
            Incidents(session).record(place.controller_id, incident_in(**change), actor="dpo")
        assert err.value.field == field
        assert Incidents(session).all(place.controller_id) == []
        session.rollback()


def test_an_incident_is_recorded_audited_and_its_clock_filed(sessions: sessionmaker[Session], keyring: Keyring,
                                                             tmp_path: Path) -> None:
    with estate(sessions, keyring, tmp_path) as place, sessions() as session:
        cid = place.controller_id
        incidents = Incidents(session, clock=lambda: NOW)
        incident = incidents.record(cid, incident_in(systems=["web", "logs_db.visits"]), actor="dpo")
        assert incident.reference.endswith("-0001")
        assert incident.jurisdictions == ["CN"]
        event = AuditLog(session).events(cid)[0]
        assert (event.action, event.data["systems"], event.data["is_significant"]) == (
            "incident.recorded", ["web", "logs_db.visits"], True)
        [clock] = incidents.clocks(incident)
        assert (clock.code, clock.status, clock.due_at) == ("significant_incident", ClockStatus.RUNNING,
                                                            NOW + dt.timedelta(hours=2))
        later = Incidents(session, clock=lambda: NOW + dt.timedelta(hours=3))
        assert [(i.id, s.code) for i, s in later.overdue(cid)] == [(incident.id, "significant_incident")]
        with pytest.raises(CharterError) as err:
            later.file(cid, incident.id, clock="authority_notification", authority="x", actor="dpo")
        assert err.value.field == "clock"
        later.file(cid, incident.id, clock="significant_incident", authority="上海市网信办", reference="SH-1",
                   actor="dpo")
        with pytest.raises(Conflict):
            later.file(cid, incident.id, clock="significant_incident", authority="again", actor="dpo")
        [filed] = later.clocks(incident)
        assert filed.status is ClockStatus.LATE
        assert later.overdue(cid) == []
        second = incidents.record(cid, incident_in(is_significant=False), actor="dpo")
        assert second.reference.endswith("-0002") and incidents.clocks(second) == []
        incidents.close(cid, second.id, actor="dpo")
        assert [i.id for i in incidents.all(cid, status="open")] == [incident.id]
        assert AuditLog(session).verify(cid).ok
        session.rollback()
