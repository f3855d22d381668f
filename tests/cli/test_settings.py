"""Settings the CLI cannot work with are refused before any command runs, saying which variable and how to fix it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

MAIN = [sys.executable, "-c", "from charter.cli.main import main; main()"]


@pytest.mark.parametrize("url", ["mysql://root@127.0.0.1/test", "mariadb+pymysql://root@127.0.0.1/test"])
def test_a_mariadb_url_for_charters_own_database_is_refused_clearly(url: str, tmp_path: Path) -> None:
    env = {**os.environ, "CHARTER_DATABASE_URL": url, "COLUMNS": "200"}
    done = subprocess.run([*MAIN, "db", "upgrade"], env=env, cwd=tmp_path, capture_output=True, text=True,  # noqa: S603
                          timeout=60, check=False)
    assert done.returncode == 1
    assert "CHARTER_DATABASE_URL is not usable" in done.stderr and "SQLite or PostgreSQL" in done.stderr
    assert "fix: Use sqlite:///./charter.db" in done.stderr and "Traceback" not in done.stderr + done.stdout


def test_a_sqlite_url_for_charters_own_database_is_taken(tmp_path: Path) -> None:
    env = {**os.environ, "CHARTER_DATABASE_URL": f"sqlite:///{tmp_path / 'charter.db'}", "COLUMNS": "200"}
    done = subprocess.run([*MAIN, "db", "upgrade"], env=env, cwd=tmp_path, capture_output=True, text=True,  # noqa: S603
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "database at migration" in done.stdout and (tmp_path / "charter.db").exists()
