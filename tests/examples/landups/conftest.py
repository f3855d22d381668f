"""Landups on a real database per backend: SQLite, and a fresh MariaDB database created and dropped per run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from landups.settings import Settings
from landups.web.app import create_app
from landups.web.context import AppState
from tests.services import fresh_mariadb_database


@pytest.fixture(scope="session", params=["sqlite", "mariadb"])
def landups_db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('landups-db') / 'landups.db'}"
        return
    with fresh_mariadb_database() as url:
        yield url


@pytest.fixture(scope="session")
def landups_settings(landups_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(database_url=landups_db_url, data_dir=tmp_path_factory.mktemp("landups-data"),
                    max_photo_bytes=512 * 1024)


@pytest.fixture(scope="session")
def landups_app(landups_settings: Settings) -> Iterator[FastAPI]:
    app = create_app(landups_settings)
    yield app
    app.state.landups.engine.dispose()


@pytest.fixture
def state(landups_app: FastAPI) -> AppState:
    s: AppState = landups_app.state.landups
    return s


@pytest.fixture
def web(landups_app: FastAPI) -> TestClient:
    """A fresh browser (no cookies) over https, so the Secure session cookie is sent back."""
    return TestClient(landups_app, base_url="https://testserver", follow_redirects=False)


@pytest.fixture
def photo_dir(landups_settings: Settings) -> Path:
    return landups_settings.photo_dir
