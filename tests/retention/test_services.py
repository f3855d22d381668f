"""Legal holds on a real database: validation, scope, audit, expiry."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from charter.audit.services import AuditLog
from charter.core.crypto import Keyring
from charter.core.errors import CharterError, Conflict, NotFound
from charter.retention import LegalHolds
from tests.factories import make_controller
from tests.retention.estate import NOW, estate


def test_a_hold_is_placed_audited_and_lapses(sessions: sessionmaker[Session], keyring: Keyring,
                                             tmp_path: Path) -> None:
    with estate(sessions, keyring, tmp_path) as place, sessions() as session:
        cid = place.controller_id
        holds = LegalHolds(session, keyring)
        hold = holds.place(cid, dataset="logs_db", collection="visits", reason="Audit", actor="dpo@x",
                           expires_at=(NOW + dt.timedelta(days=1)).replace(tzinfo=None))
        assert hold.expires_at.tzinfo is not None  # a naive expiry is read as UTC
        event = AuditLog(session).events(cid)[0]
        assert (event.action, event.actor, event.data["collection"]) == ("legal_hold.placed", "dpo@x", "visits")
        assert "Audit" not in str(event.data)  # the reason can name people: it stays out of the log
        assert [h.id for h in holds.holds(cid)] == [hold.id]
        assert holds.holds(cid, now=NOW + dt.timedelta(days=2)) == []
        assert [h.id for h in holds.covering_subject(cid, place.subjects["ann@example.com"])] == [hold.id]
        holds.release(cid, hold.id, actor="dpo@x")
        with pytest.raises(Conflict):
            holds.release(cid, hold.id, actor="dpo@x")
        assert AuditLog(session).events(cid)[0].action == "legal_hold.released"
        session.rollback()


def test_a_hold_needs_a_data_map_and_is_not_found_across_tenants(sessions: sessionmaker[Session],
                                                                 keyring: Keyring) -> None:
    with sessions() as session:
        cid = make_controller(session)
        with pytest.raises(CharterError, match="has none published") as err:
            LegalHolds(session, keyring).place(cid, dataset="x", reason="r", actor="a",
                                               expires_at=NOW + dt.timedelta(days=1))
        assert err.value.field == "dataset"
        with pytest.raises(NotFound):
            LegalHolds(session, keyring).get(cid, "no-such-hold")
        session.rollback()
