"""Page tests: one app per backend, and a fresh browser-like client (own cookies, own address) per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from charter.core.crypto import Keyring
from charter.core.settings import Settings
from tests.requests.world import World, shop_world
from tests.web.pages import browser
from tests.web.request_world import without_manual_store


@pytest.fixture(scope="session")
def app(settings: Settings) -> Iterator[FastAPI]:
    from charter.web.app import create_app  # noqa: PLC0415 - built once per backend

    application = create_app(settings)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def web(app: FastAPI) -> TestClient:
    """A client with no cookies and an address of its own, so attempt limits of other tests never apply."""
    return browser(app)


@pytest.fixture
def world(app: FastAPI, sessions: sessionmaker[Session], keyring: Keyring, tmp_path: Path) -> Iterator[World]:
    """The shop world for page tests: the app's requests run by the world's worker (its connectors reach the
    shop), on a data map without the manual (staff-run) dataset so requests finish on their own."""
    queue = app.state.request_queue
    with shop_world(sessions, keyring, tmp_path) as w:
        app.state.request_queue = w.worker
        without_manual_store(w)
        try:
            yield w
        finally:
            app.state.request_queue = queue
