"""De-identified exports through the connectors: written only when every row passes, logged as de-identified."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import create_engine, update
from sqlalchemy.orm import Session, sessionmaker

from charter.audit.services import AuditLog
from charter.core.crypto import Keyring
from charter.operations import DeidentifiedExporter, ExportRefused, parse_generalisation
from tests.retention.estate import accounts, estate


@pytest.mark.parametrize("backend", ["sqlite", "mariadb"])
def test_an_export_drops_identities_pseudonymises_keys_and_is_logged(sessions: sessionmaker[Session],
                                                                     keyring: Keyring, tmp_path: Path,
                                                                     backend: str) -> None:
    with estate(sessions, keyring, tmp_path, backend) as place:
        out = tmp_path / "accounts.csv"
        exporter = DeidentifiedExporter(sessions, keyring, place.secrets, page_size=3)
        rules = dict([parse_generalisation("name=keep_chars:1"), parse_generalisation("created_at=year")])
        result = exporter.export(place.controller_id, "accounts_db.accounts", out, generalise=rules, actor="analyst")
        rows = list(csv.DictReader(out.open(encoding="utf-8")))
        assert result.rows == len(rows) == 4
        assert list(rows[0]) == ["id", "name", "created_at", "closed_at"]
        assert {r["name"] for r in rows} == {"A**", "B**", "C**", "D**"}
        assert all(r["id"].startswith("psd:") and r["created_at"][4:] in ("-01-01T00:00:00", "-01-01 00:00:00")
                   for r in rows)
        assert "example.com" not in out.read_text(encoding="utf-8")
        visits = exporter.export(place.controller_id, "logs_db.visits", tmp_path / "visits.csv", actor="analyst")
        joined = {r["account_id"] for r in csv.DictReader((tmp_path / "visits.csv").open(encoding="utf-8"))}
        assert visits.rows == 12 and len(joined) == 4
        with sessions() as session:
            event = AuditLog(session).events(place.controller_id)[1]
            assert (event.action, event.data["rows"], event.data["sha256"]) == ("export.deidentified", 4,
                                                                                result.sha256)
            assert event.data["columns"]["email"] == "dropped"


def test_an_export_where_an_identifier_survives_is_refused_and_leaves_nothing(
        sessions: sessionmaker[Session], keyring: Keyring, tmp_path: Path) -> None:
    with estate(sessions, keyring, tmp_path) as place:
        engine = create_engine(place.url)
        with engine.begin() as conn:  # someone typed their email into the name field
            conn.execute(update(accounts).where(accounts.c.id == 3).values(name="cai.private@example.net"))
        engine.dispose()
        out = tmp_path / "accounts.csv"
        rules = dict([parse_generalisation("name=keep_chars:80")])
        exporter = DeidentifiedExporter(sessions, keyring, place.secrets)
        with pytest.raises(ExportRefused) as refused:
            exporter.export(place.controller_id, "accounts_db.accounts", out, generalise=rules, actor="analyst")
        assert refused.value.field == "name"
        assert "an email address" in refused.value.message and "example.net" not in refused.value.message
        assert not out.exists() and not (tmp_path / "accounts.csv.partial").exists()
        dry = exporter.export(place.controller_id, "accounts_db.accounts", out, actor="analyst", dry_run=True)
        assert dry.rows == 4 and dry.export_id is None and not out.exists()
        with sessions() as session:
            assert "export.deidentified" not in [e.action for e in AuditLog(session).events(place.controller_id)]
