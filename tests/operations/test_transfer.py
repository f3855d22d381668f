"""Controller transfer: tell everyone before, record the undertaking, then hand over — and not in another order."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from charter.announcements import Announcements
from charter.audit.services import AuditLog
from charter.core.crypto import Keyring
from charter.core.errors import CharterError, Conflict
from charter.devmail import DevMail
from charter.operations import Transfers, transfer_report
from tests.outbox.conftest import Clock, make_sender
from tests.retention.estate import NOW, estate

DAY = (NOW + dt.timedelta(days=30)).date()


def test_no_hand_over_before_everyone_is_told_and_the_undertaking_recorded(
        sessions: sessionmaker[Session], keyring: Keyring, tmp_path: Path) -> None:
    with estate(sessions, keyring, tmp_path) as place, DevMail(web_port=None) as mail:
        cid = place.controller_id
        with sessions() as session, session.begin():
            transfers = Transfers(session, keyring, clock=lambda: NOW)
            with pytest.raises(CharterError) as past:
                transfers.start(cid, new_holder="Beta Ltd", new_holder_contact="dpo@beta.example",
                                transfer_date=NOW.date(), actor="ceo")
            assert past.value.field == "transfer_date"
            transfer_id = transfers.start(cid, new_holder="Beta Ltd", new_holder_contact="dpo@beta.example",
                                          transfer_date=DAY, actor="ceo").id
            with pytest.raises(Conflict) as untold:
                transfers.hand_over(cid, transfer_id, actor="ceo")
            assert untold.value.field == "notified"
            assert transfers.notify(cid, transfer_id, dry_run=True, actor="dpo") == {
                "would_queue": {"email": 4, "in_app": 4}, "announce": False}
            transfers.notify(cid, transfer_id, announce=True, actor="dpo")
        with sessions() as session, session.begin(), pytest.raises(Conflict, match="still waiting to be delivered"):
            Transfers(session, keyring).hand_over(cid, transfer_id, actor="ceo")
        make_sender(sessions, keyring, mail.smtp_port, Clock()).send_due(controller_id=cid)
        received = mail.wait_for(4)
        assert {m.to for m in received} == {"ann@example.com", "bob@example.com", "cai@example.com",
                                            "dan@example.com"}
        assert "Beta Ltd" in received[0].subject and "Beta Ltd" in received[0].text
        with sessions() as session, session.begin():
            transfers = Transfers(session, keyring, clock=lambda: NOW)
            with pytest.raises(Conflict) as unpledged:
                transfers.hand_over(cid, transfer_id, actor="ceo")
            assert unpledged.value.field == "undertaking"
            with pytest.raises(CharterError) as blank:
                transfers.record_undertaking(cid, transfer_id, text="  ", signed_by="Beta CEO", actor="dpo")
            assert blank.value.field == "undertaking"
            transfers.record_undertaking(cid, transfer_id, text="Beta Ltd keeps every promise of the policy.",
                                         signed_by="Beta Ltd, CEO", actor="dpo")
            with pytest.raises(Conflict) as early:
                transfers.hand_over(cid, transfer_id, actor="ceo")
            assert early.value.field == "transfer_date"
            on_the_day = Transfers(session, keyring, clock=lambda: NOW + dt.timedelta(days=30))
            assert on_the_day.hand_over(cid, transfer_id, dry_run=True, actor="ceo").transfer.handed_over_at is None
            done = on_the_day.hand_over(cid, transfer_id, actor="ceo")
            assert done.delivery == {"sent": 8}  # four emails, four in-app notices
            with pytest.raises(Conflict, match="already handed over"):
                on_the_day.hand_over(cid, transfer_id, actor="ceo")
            report = transfer_report(session, done.transfer)
            assert "Beta Ltd, CEO" in report and str(done.transfer.undertaking_sha256) in report
            assert "sent: 8" in report
            assert Announcements(session).published(cid)[0].kind == "transfer"
            actions = [e.action for e in AuditLog(session).events(cid, limit=300)]
            order = [a for a in reversed(actions) if a.startswith("transfer.")]
            assert order == ["transfer.started", "transfer.notified", "transfer.undertaking_recorded",
                             "transfer.handed_over"]
