"""Landups on a real database per backend: SQLite, and a fresh MariaDB database created and dropped per run."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from landups.db import unit_of_work
from landups.i18n import Lang
from landups.privacy import Decision, Subject
from landups.settings import Settings
from landups.staffdesk import StaffService
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
    return Settings(database_url=landups_db_url, data_dir=tmp_path_factory.mktemp("landups-data"))


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


class ScriptedCharter:
    """A stand-in for Charter's answers, for testing what Landups does with a yes or a no. Landups itself never
    answers in Charter's place (its own default is `NotConnected`, which says no)."""

    is_connected = True

    def __init__(self) -> None:
        self.uses: set[tuple[str, str]] = set()        # (account_id, purpose) Charter allows
        self.shares: set[tuple[str, str]] = set()      # (recipient, purpose) Charter allows
        self.delivered: list[tuple[str, dict[str, object]]] = []
        self.links_minted = 0
        self.centre_down = False   # `centre_link` answers None, as `SdkGateway` does when Charter is unreachable

    def decide_use(self, subject: Subject, purpose: str) -> Decision:
        allowed = (subject.account_id, purpose) in self.uses
        return Decision(allowed=allowed, reason="consent_granted" if allowed else "no_consent", from_charter=True)

    def decide_share(self, subject: Subject, recipient: str, purpose: str) -> Decision:
        allowed = (recipient, purpose) in self.shares
        return Decision(allowed=allowed, reason="recipient_declared" if allowed else "not_allowed",
                        from_charter=True)

    def centre_link(self, subject: Subject, language: Lang) -> str | None:
        if self.centre_down:
            return None
        self.links_minted += 1
        return f"https://charter.example/center/landups/enter?token=signed-{self.links_minted}&lang={language.value}"

    def banner_src(self) -> tuple[str, str] | None:
        return ("https://charter.example/static/charter-consent.js", "pk_test_landups")

    def deliver(self, kind: str, payload: Mapping[str, object]) -> str | None:
        self.delivered.append((kind, dict(payload)))
        return None


@pytest.fixture(scope="session")
def charter() -> ScriptedCharter:
    return ScriptedCharter()


@pytest.fixture(scope="session")
def wired_app(landups_settings: Settings, charter: ScriptedCharter) -> Iterator[FastAPI]:
    """The same database, with a Charter that answers as the test scripts it."""
    app = create_app(landups_settings, gateway=charter)
    yield app
    app.state.landups.engine.dispose()


@pytest.fixture
def wired(wired_app: FastAPI) -> TestClient:
    return TestClient(wired_app, base_url="https://testserver", follow_redirects=False)


@pytest.fixture
def staff_login(landups_app: FastAPI) -> Callable[[TestClient], str]:
    """Create a support staff member and log `client` in as them; returns the staff email."""

    def login(client: TestClient) -> str:
        email = f"staff-{uuid.uuid4().hex[:8]}@landups.example"
        with unit_of_work(landups_app.state.landups.factory) as session:
            StaffService(session).create(email, "Support Agent", "staff password 123")
        page = client.get("/staff/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token
        response = client.post("/staff/login", data={"email": email, "password": "staff password 123",
                                                     "csrf_token": token.group(1)})
        assert response.status_code == 303, response.text
        return email

    return login
