"""Ceasing operations: collection refused, everyone told, every dataset erased or anonymised, a closing report."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from charter.accounts.services import CollectionStopped
from charter.announcements import Announcements
from charter.core.crypto import Keyring
from charter.core.errors import CharterError, Conflict
from charter.devmail import DevMail
from charter.operations import ShutdownErasure, Shutdowns, closing_report
from charter.retention import LegalHolds, TargetStatus
from charter.subjects.services import SubjectDirectory
from tests.outbox.conftest import Clock, make_sender
from tests.retention.estate import NOW, accounts, estate, visits

LAST_DAY = (NOW + dt.timedelta(days=14)).date()
AFTER = NOW + dt.timedelta(days=15)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_stop_tell_erase_report(sessions: sessionmaker[Session], keyring: Keyring, tmp_path: Path,
                                backend: str) -> None:
    with estate(sessions, keyring, tmp_path, backend, with_redis=True) as place:
        cid = place.controller_id
        with sessions() as session, session.begin():
            shutdowns = Shutdowns(session, keyring, clock=lambda: NOW)
            with pytest.raises(CharterError) as past:
                shutdowns.stop_collection(cid, reason="Closing", last_day=NOW.date() - dt.timedelta(days=1),
                                          actor="ceo")
            assert past.value.field == "last_day"
            assert shutdowns.stop_collection(cid, reason="Closing", last_day=LAST_DAY, dry_run=True,
                                             actor="ceo") is None
            shutdowns.stop_collection(cid, reason="The business is closing", last_day=LAST_DAY, actor="ceo")
            with pytest.raises(Conflict):
                shutdowns.stop_collection(cid, reason="again", last_day=LAST_DAY, actor="ceo")
        with sessions() as session, session.begin():
            directory = SubjectDirectory(session, keyring)
            with pytest.raises(CollectionStopped) as refused:
                directory.resolve(cid, "email", "new.person@example.com", actor="host")
            assert "ceased operations" in refused.value.message
            assert directory.resolve(cid, "email", "ann@example.com", actor="host").id == place.subjects[
                "ann@example.com"]
            LegalHolds(session, keyring).place(cid, dataset="logs_db", reason="Tax audit", actor="dpo",
                                      expires_at=NOW + dt.timedelta(days=400))
        erasure = ShutdownErasure(sessions, keyring, place.secrets, clock=lambda: AFTER)
        with pytest.raises(Conflict) as untold:
            erasure.erase(cid, actor="dpo")
        assert untold.value.field == "notified"
        with sessions() as session, session.begin():
            result = Shutdowns(session, keyring, clock=lambda: NOW).notify(cid, actor="dpo")
            assert result["queued"] == {"queued": {"email": 4, "in_app": 4}, "already": 0, "suppressed": 0,
                                        "invalid": 0}
        with DevMail(web_port=None) as mail:
            make_sender(sessions, keyring, mail.smtp_port, Clock()).send_due(controller_id=cid)
            assert len(mail.wait_for(4)) == 4
        with pytest.raises(Conflict) as early:
            ShutdownErasure(sessions, keyring, place.secrets, clock=lambda: NOW).erase(cid, actor="dpo")
        assert early.value.field in ("last_day", "notified")
        dry = erasure.erase(cid, actor="dpo", dry_run=True)
        assert len(place.rows(visits)) == 12 and dry.rows_changed == 4
        report = erasure.erase(cid, actor="dpo")
        by_key = {o.key: o for o in report.outcomes}
        assert by_key["logs_db.visits"].status is TargetStatus.HELD
        assert by_key["cache.sessions"].rows_deleted == 4 and place.session_keys() == []
        assert by_key["accounts_db.accounts"].rows_changed == 4
        assert all(a["name"] == "(erased)" and a["phone"] is None for a in place.rows(accounts))
        assert len(place.rows(visits)) == 12  # the hold keeps the visit logs
        with sessions() as session:
            shutdown = Shutdowns(session, keyring).get(cid)
            text = closing_report(session, shutdown)
            assert "The business is closing" in text and "logs_db.visits | held" in text
            assert "cache.sessions | sweep | 4 | 0" in text
            assert Announcements(session).published(cid)[0].kind == "shutdown"
