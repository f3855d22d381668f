"""`charter serve` sweeps on a schedule in-process, stops with the app, and can be switched off."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from charter.core.crypto import Keyring
from charter.core.db import make_engine, session_factory
from charter.core.settings import Settings
from charter.migrations import upgrade
from charter.web.app import create_app
from tests.retention.estate import estate, use_secrets, visits


def test_the_server_sweeps_by_itself_and_stops_with_the_app(fresh_database_url: str, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    upgrade(fresh_database_url)
    keyring = Keyring.generate()
    engine = make_engine(fresh_database_url)
    try:
        with estate(session_factory(engine), keyring, tmp_path) as place:
            use_secrets(monkeypatch, place)
            settings = Settings(database_url=fresh_database_url, keyring=keyring.to_json(),
                                keyring_file=tmp_path / "unused.json", outbox_worker=False, retention_interval=3600)
            application = create_app(settings)
            with TestClient(application):
                jobs = application.state.jobs
                deadline = time.monotonic() + 20
                while jobs.runs["retention"] < 1 and time.monotonic() < deadline:
                    time.sleep(0.05)
                assert jobs.runs["retention"] == 1
                assert len(place.rows(visits)) == 4
            assert not jobs.is_running
    finally:
        engine.dispose()


def test_the_scheduler_can_be_switched_off(fresh_database_url: str, tmp_path: Path) -> None:
    upgrade(fresh_database_url)
    settings = Settings(database_url=fresh_database_url, keyring_file=tmp_path / "k.json", scheduler=False)
    assert create_app(settings).state.jobs is None
