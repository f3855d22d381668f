from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from charter.cli.main import app
from charter.core.db import make_engine
from charter.core.settings import Settings
from charter.migrations import DatabaseBehind, current_revision, head_revision, upgrade
from charter.web.app import create_app


def test_the_app_refuses_a_database_behind_and_says_how_to_upgrade(fresh_database_url: str,
                                                                     tmp_path: Path) -> None:
    settings = Settings(database_url=fresh_database_url, keyring_file=tmp_path / "k.json")
    with pytest.raises(DatabaseBehind, match="empty database") as err:
        create_app(settings)
    assert "charter db upgrade" in err.value.fix
    upgrade(fresh_database_url)
    engine = make_engine(fresh_database_url)
    assert current_revision(engine) == head_revision()
    engine.dispose()
    assert create_app(settings).title == "Charter"


def test_cli_commands_refuse_a_database_behind(fresh_database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHARTER_DATABASE_URL", fresh_database_url)
    result = CliRunner().invoke(app, ["controller", "list"])
    assert result.exit_code == 1
    assert "charter db upgrade" in result.output
    result = CliRunner().invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0
    assert CliRunner().invoke(app, ["controller", "list"]).exit_code == 0
