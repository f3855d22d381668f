"""Lubpur's own database (SQLite file, then a fresh PostgreSQL database), a real SMTP server, and the app."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from lubpur.catalogue.services import seed_catalogue
from lubpur.db import make_engine, session_factory, unit_of_work
from lubpur.schema import create_schema
from lubpur.settings import Settings
from lubpur.web.app import create_app
from tests.examples.lubpur.mailbox import Mailbox
from tests.services import fresh_postgres_database


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def lubpur_database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('lubpur') / 'lubpur.db'}"
        return
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
def mailbox() -> Iterator[Mailbox]:
    with Mailbox.running() as box:
        yield box


@pytest.fixture(scope="session")
def lubpur_settings(lubpur_database_url: str, mailbox: Mailbox) -> Settings:
    return Settings(database_url=lubpur_database_url, base_url="http://localhost:8100", smtp_host="127.0.0.1",
                    smtp_port=mailbox.port, secret_key="test-secret")


@pytest.fixture(scope="session")
def lubpur_sessions(lubpur_settings: Settings) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(lubpur_settings.database_url)
    create_schema(engine)
    factory = session_factory(engine)
    with unit_of_work(factory) as session:
        seed_catalogue(session)
    yield factory
    engine.dispose()


@pytest.fixture(scope="session")
def lubpur_app(lubpur_settings: Settings, lubpur_sessions: sessionmaker[Session]) -> FastAPI:
    return create_app(lubpur_settings)


@pytest.fixture
def web(lubpur_app: FastAPI) -> Iterator[TestClient]:
    """A browser of its own (fresh cookies) on the shared app."""
    client = TestClient(lubpur_app, base_url="http://testserver", follow_redirects=True)
    yield client
    client.close()


@pytest.fixture
def db(lubpur_sessions: sessionmaker[Session]) -> Iterator[Session]:
    with lubpur_sessions() as session:
        yield session

