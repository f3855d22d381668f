"""`charter operations …` against a real database and host estate: every step, its dry run, its report."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from charter.core.crypto import Keyring
from charter.operations import Transfers
from charter.outbox import Outbox
from tests.cli.run import charter
from tests.retention.estate import NOW, estate, policy_text, use_secrets


def test_transfer_and_disclosure_from_the_command_line(cli_keyring: Keyring, sessions: sessionmaker[Session],
                                                       tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with estate(sessions, cli_keyring, tmp_path) as place:
        use_secrets(monkeypatch, place)
        cid, day = place.controller_id, (NOW + dt.timedelta(days=10)).date().isoformat()
        code, out = charter("operations", "transfer", "start", "--controller", cid, "--to", "Beta Ltd", "--contact",
                            "dpo@beta.example", "--date", day, "--dry-run")
        assert code == 0 and "dry run" in out
        with sessions() as session:
            assert Transfers(session, cli_keyring).all(cid) == []
        code, out = charter("operations", "transfer", "start", "--controller", cid, "--to", "Beta Ltd", "--contact",
                            "dpo@beta.example", "--date", day)
        assert code == 0, out
        transfer_id = out.split()[1]
        code, out = charter("operations", "transfer", "handover", transfer_id, "--controller", cid)
        assert code == 1 and "have not been told" in out
        code, out = charter("operations", "transfer", "notify", transfer_id, "--controller", cid, "--dry-run")
        assert "'email': 4" in out
        assert charter("operations", "transfer", "notify", transfer_id, "--controller", cid)[0] == 0
        undertaking = tmp_path / "undertaking.txt"
        undertaking.write_text("Beta keeps every promise.", encoding="utf-8")
        code, out = charter("operations", "transfer", "undertaking", transfer_id, "--controller", cid, "--text-file",
                            str(undertaking), "--signed-by", "Beta CEO")
        assert code == 0 and "sha256" in out
        code, out = charter("operations", "transfer", "report", transfer_id, "--controller", cid)
        assert "Beta CEO" in out and "Beta Ltd" in out
        code, out = charter("operations", "disclosure", "record", "--controller", cid, "--email", "ann@example.com",
                            "--authority", "Court", "--grounds", "Order 5", "--category", "contact.email",
                            "--disclosed", NOW.date().isoformat(), "--restricted-by", "Gag order",
                            "--restricted-until", (NOW + dt.timedelta(days=3)).date().isoformat())
        assert code == 0 and "to be told on" in out
        code, out = charter("operations", "disclosure", "list", "--controller", cid)
        assert "deferred until" in out


def test_cease_export_and_changes_from_the_command_line(cli_keyring: Keyring, sessions: sessionmaker[Session],
                                                        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with estate(sessions, cli_keyring, tmp_path) as place:
        use_secrets(monkeypatch, place)
        cid = place.controller_id
        later = tmp_path / "v2.yaml"
        later.write_text(policy_text(cid, "2.0", effective=(NOW + dt.timedelta(days=30)).date(), with_surveys=True),
                         encoding="utf-8")
        code, out = charter("policy", "publish", str(later), "--controller", cid)
        assert code == 0 and "a material change" in out
        code, out = charter("operations", "changes", "run", "--controller", cid)
        assert code == 0 and "policy changes notified:" in out, out
        code, out = charter("operations", "changes", "list", "--controller", cid)
        assert "notified" in out and "2.0" in out
        with sessions() as session:
            assert {m.template for m in Outbox(session, cli_keyring).messages(cid)} == {"policy_change"}
        csv_file = tmp_path / "visits.csv"
        code, out = charter("operations", "export", "--controller", cid, "--collection", "logs_db.visits", "--out",
                            str(csv_file), "--generalise", "created_at=month")
        assert code == 0, out
        assert "pseudonymised" in out and csv_file.read_text(encoding="utf-8").startswith("id,account_id,created_at")
        code, out = charter("operations", "export", "--controller", cid, "--collection", "logs_db.visits", "--out",
                            str(csv_file), "--generalise", "created_at=decade")
        assert code == 1 and "cannot read the generalisation" in out
        last_day = (NOW + dt.timedelta(days=3)).date().isoformat()
        assert charter("operations", "cease", "stop", "--controller", cid, "--reason", "Closing", "--last-day",
                       last_day, "--dry-run")[0] == 0
        code, out = charter("operations", "cease", "stop", "--controller", cid, "--reason", "Closing", "--last-day",
                            last_day)
        assert code == 0 and "collection stopped" in out
        code, out = charter("operations", "cease", "erase", "--controller", cid, "--dry-run")
        assert code == 1 and "have not been told" in out
        assert charter("operations", "cease", "notify", "--controller", cid, "--no-individually")[0] == 0
        code, out = charter("operations", "cease", "report", "--controller", cid)
        assert "Closing" in out and "has not been erased yet" in out
