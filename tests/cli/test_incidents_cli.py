"""`charter incidents …` against a real database and host estate."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from sqlalchemy.orm import Session, sessionmaker

from charter.core.crypto import Keyring
from charter.outbox import Outbox
from tests.cli.run import charter
from tests.incidents.helpers import elements_json
from tests.retention.estate import NOW, estate, use_secrets


def test_the_incident_workflow_from_the_command_line(cli_keyring: Keyring, sessions: sessionmaker[Session],
                                                     tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with estate(sessions, cli_keyring, tmp_path) as place:
        use_secrets(monkeypatch, place)
        cid = place.controller_id
        incident_file = tmp_path / "incident.yaml"
        incident_file.write_text(yaml.safe_dump({
            "title": "Leaked export", "found_by": "SOC", "location": "Laptop", "description": "A CSV was mailed out.",
            "discovered_at": (NOW - dt.timedelta(hours=6)).isoformat(), "categories": ["contact.email"],
            "systems": ["accounts_db"], "people_estimate": 4, "police_informed": True, "is_significant": True}))
        code, out = charter("incidents", "record", str(incident_file), "--controller", cid)
        assert code == 0, out
        incident_id = out.split()[1]
        assert "overdue" in out
        code, out = charter("incidents", "overdue", "--controller", cid)
        assert code == 1 and "significant_incident" in out
        code, out = charter("incidents", "resolve", incident_id, "--controller", cid)
        assert code == 0, out
        assert "4 people affected (6 identities; 4 known to Charter)" in out
        notice_file = tmp_path / "notice.yaml"
        notice_file.write_text(yaml.safe_dump({"elements": elements_json(cause=None), "channels": ["email"]},
                                              allow_unicode=True))
        code, out = charter("incidents", "notice", incident_id, str(notice_file), "--controller", cid)
        assert code == 1 and "cause of the incident" in out
        notice_file.write_text(yaml.safe_dump({"elements": elements_json(), "channels": ["email", "in_app"]},
                                              allow_unicode=True))
        code, out = charter("incidents", "notice", incident_id, str(notice_file), "--controller", cid)
        assert code == 0, out
        notice_id = out.split()[1]
        code, out = charter("incidents", "send", notice_id, "--controller", cid, "--page", "2")
        assert code == 0, out
        assert "queued: {'email': 4, 'in_app': 4}" in out
        with sessions() as session:
            assert len(Outbox(session, cli_keyring).messages(cid)) == 8
        code, out = charter("incidents", "file", incident_id, "--controller", cid, "--clock", "significant_incident",
                            "--authority", "上海市网信办")
        assert code == 0, out
        assert charter("incidents", "overdue", "--controller", cid)[0] == 0
        code, out = charter("incidents", "report", incident_id, "--controller", cid, "--lang", "en")
        assert code == 0 and "filed late" in out and "Leaked export" in out
        pdf = tmp_path / "report.pdf"
        code, out = charter("incidents", "report", incident_id, "--controller", cid, "--format", "pdf", "--out",
                            str(pdf))
        assert code == 0 and pdf.read_bytes().startswith(b"%PDF")
        code, out = charter("incidents", "list", "--controller", cid)
        assert "Leaked export" in out
        assert charter("incidents", "close", incident_id, "--controller", cid)[0] == 0
