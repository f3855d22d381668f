"""`charter retention …` against a real database and a real host estate."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from charter.core.crypto import Keyring
from tests.cli.run import charter
from tests.retention.estate import estate, use_secrets, visits


def test_sweep_dry_run_then_for_real_with_a_summary(cli_keyring: Keyring, sessions: sessionmaker[Session],
                                                    tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with estate(sessions, cli_keyring, tmp_path) as place:
        use_secrets(monkeypatch, place)
        code, out = charter("retention", "sweep", "--controller", place.controller_id, "--dry-run")
        assert code == 0, out
        assert "would delete" in out and "logs_db.visits" in out
        assert len(place.rows(visits)) == 12
        code, out = charter("retention", "sweep", "--controller", place.controller_id, "--chunk-size", "5")
        assert code == 0, out
        assert "logs_db.visits" in out and "total" in out
        assert len(place.rows(visits)) == 4
        code, out = charter("retention", "runs", "--controller", place.controller_id)
        assert code == 0 and out.count("sweep") == 2


def test_holds_are_placed_listed_and_released(cli_keyring: Keyring, sessions: sessionmaker[Session],
                                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with estate(sessions, cli_keyring, tmp_path) as place:
        use_secrets(monkeypatch, place)
        cid = place.controller_id
        code, out = charter("retention", "hold", "--controller", cid, "--dataset", "logs_db", "--reason",
                            "Tax audit", "--until", "2099-01-01", "--subject-email", "ann@example.com", "--by", "dpo")
        assert code == 0, out
        hold_id = out.split()[2]
        code, out = charter("retention", "holds", "--controller", cid)
        assert hold_id in out and "Tax audit" in out and place.subjects["ann@example.com"] in out
        code, out = charter("retention", "sweep", "--controller", cid)
        assert code == 0, out
        assert hold_id in out
        assert [v["id"] for v in place.rows(visits)] == [10, 11, 12, 22, 32, 42]
        assert charter("retention", "release", hold_id, "--controller", cid)[0] == 0
        assert hold_id not in charter("retention", "holds", "--controller", cid)[1]
        code, out = charter("retention", "hold", "--controller", cid, "--dataset", "logs_db", "--reason", "x",
                            "--until", "2001-01-01")
        assert code == 1 and "in the past" in out
