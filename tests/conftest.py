"""Shared fixtures: a real database per backend (SQLite and PostgreSQL), migrated by Alembic.

Tests isolate themselves by tenancy: each makes its own controller, so a run shares one database per backend.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from charter.core.crypto import Keyring
from charter.core.db import make_engine, session_factory
from charter.core.settings import Settings
from charter.migrations import upgrade
from tests.live import browser, page
from tests.services import fresh_postgres_database

# One Playwright instance for the whole run: a second session-scoped one (say, from a sub-folder's conftest) fails
# with "Sync API inside the asyncio loop" while the first is alive.
__all__ = ["browser", "page"]


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'charter.db'}"
        upgrade(url)
        yield url
        return
    with fresh_postgres_database() as url:
        upgrade(url)
        yield url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose transaction the test commits or not, as the code under test would."""
    with sessions() as s:
        yield s


@pytest.fixture(scope="session")
def keyring() -> Keyring:
    return Keyring.generate()


@pytest.fixture(scope="session")
def settings(database_url: str, keyring: Keyring, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    # No in-process outbox sender or scheduler: tests drain the outbox and run sweeps themselves.
    return Settings(database_url=database_url, keyring=keyring.to_json(),
                    keyring_file=tmp_path_factory.mktemp("keys") / "unused.json", outbox_worker=False,
                    scheduler=False, request_worker=False)


@pytest.fixture(scope="session")
def client(settings: Settings) -> Iterator[TestClient]:
    from charter.web.app import create_app  # noqa: PLC0415 - built once per backend

    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> Path:
    """Point the CLI at this run's database and a keyring file of its own."""
    monkeypatch.setenv("CHARTER_DATABASE_URL", database_url)
    monkeypatch.setenv("CHARTER_KEYRING_FILE", str(tmp_path / "keys.json"))
    monkeypatch.delenv("CHARTER_KEYRING", raising=False)
    return tmp_path


EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of this test's own, for operations that span the whole database (key rotation, migrations)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    with fresh_postgres_database() as url:
        yield url
