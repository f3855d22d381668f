"""Page tests: one app per backend, and a fresh browser-like client (own cookies, own address) per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from charter.core.settings import Settings
from tests.web.pages import browser


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
