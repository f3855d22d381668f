"""Finding the people affected through the connectors: identities directly, or followed back through references,
within the incident's window; streamed page by page, de-duplicated, tied to the people Charter knows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

from charter.audit.services import AuditLog
from charter.core.crypto import Keyring
from charter.datamap.graph import build_graph
from charter.incidents import AffectedResolver, Incidents, Resolution, identity_route
from tests.incidents.helpers import incident_in
from tests.retention.estate import LONG_AGO, Estate, accounts, estate
from tests.retention.test_rules import estate_map


def test_a_route_leads_back_to_the_nearest_identity_fields() -> None:
    graph = build_graph(estate_map())
    visits = identity_route(graph, "logs_db.visits")
    assert visits is not None
    assert [(e.source, e.source_field, e.target_field) for e in visits.hops] == [
        ("accounts_db.accounts", "id", "account_id")]
    assert visits.identities == (("email", "email"), ("phone", "phone"))
    direct = identity_route(graph, "accounts_db.accounts")
    assert direct is not None and direct.hops == ()


def _resolve(sessions: sessionmaker[Session], keyring: Keyring, place: Estate, incident_id: str,
             page_size: int = 2) -> Resolution:
    return AffectedResolver(sessions, keyring, place.secrets, page_size=page_size).resolve(
        place.controller_id, incident_id, actor="dpo")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "mariadb"])
def test_everyone_with_rows_in_the_collections_is_found_once(sessions: sessionmaker[Session], keyring: Keyring,
                                                             tmp_path: Path, backend: str) -> None:
    with estate(sessions, keyring, tmp_path, backend, with_redis=True) as place:
        engine = create_engine(place.url)
        with engine.begin() as conn:  # someone Charter has never heard of
            conn.execute(accounts.insert(), [{"id": 5, "email": "Eve@Example.com", "phone": None, "name": "Eve",
                                              "created_at": LONG_AGO, "closed_at": None}])
        engine.dispose()
        with sessions() as session, session.begin():
            incident = Incidents(session).record(place.controller_id, incident_in(
                systems=["logs_db", "accounts_db", "cache"]), actor="dpo")
        result = _resolve(sessions, keyring, place, incident.id)
        by_key = {c.key: c for c in result.collections}
        assert (by_key["logs_db.visits"].rows, by_key["accounts_db.accounts"].rows) == (12, 5)
        assert by_key["cache.sessions"].rows == 4
        assert "logs_db.visits ← accounts_db.accounts" in by_key["logs_db.visits"].route
        assert (result.identities, result.subjects, result.people) == (7, 4, 5)
        with sessions() as session:
            found = Incidents(session).get(place.controller_id, incident.id)
            assert found.affected_count == 5
            assert Incidents(session).affected(found) == {"email": 5, "phone": 2, "subjects": 4}
            event = AuditLog(session).events(place.controller_id)[0]
            assert (event.action, event.data["people"]) == ("incident.affected_resolved", 5)
            assert "example.com" not in str(event.data)


def test_the_window_leaves_out_rows_collected_after_it(sessions: sessionmaker[Session], keyring: Keyring,
                                                       tmp_path: Path) -> None:
    with estate(sessions, keyring, tmp_path) as place:
        with sessions() as session, session.begin():
            early = Incidents(session).record(place.controller_id, incident_in(
                occurred_until=(LONG_AGO - dt.timedelta(days=1)).replace(tzinfo=dt.UTC)), actor="dpo")
        result = _resolve(sessions, keyring, place, early.id)
        assert (result.people, result.collections[0].rows) == (0, 0)
