"""Pooled connections on a server database: checked for life only after they sat unused (`ping_when_idle`)."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import DBAPIError

from charter.core import db
from charter.core.db import make_engine
from tests.services import fresh_postgres_database

ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


@pytest.fixture
def engine() -> Iterator[Engine]:
    with fresh_postgres_database() as url:
        engine = make_engine(url, pool_size=1)
        try:
            yield engine
        finally:
            engine.dispose()


def _backend(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.pg_backend_pid())).scalar_one())


def _kill(pid: int) -> None:
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))


def test_a_connection_the_server_closed_while_idle_is_replaced_at_checkout(engine: Engine,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    first = _backend(engine)
    _kill(first)
    monkeypatch.setattr(db, "PING_AFTER_IDLE", 0.0)  # it has sat idle long enough to be checked

    assert _backend(engine) != first  # no error: the dead one was found at checkout and replaced


def test_back_to_back_checkouts_reuse_the_connection_without_a_check(engine: Engine,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    pings: list[object] = []
    ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda dbapi: pings.append(dbapi) or ping(dbapi))
    first = _backend(engine)
    assert _backend(engine) == first
    assert pings == []  # used a moment ago: handed out as it is
    monkeypatch.setattr(db, "PING_AFTER_IDLE", 0.0)
    assert _backend(engine) == first
    assert len(pings) == 1  # idle long enough: checked, found alive, kept


def test_a_connection_that_died_within_the_idle_window_fails_once_then_is_replaced(engine: Engine) -> None:
    first = _backend(engine)
    _kill(first)

    with pytest.raises(DBAPIError) as raised:
        _backend(engine)  # handed out unchecked: its statement finds it dead
    assert raised.value.connection_invalidated

    assert _backend(engine) != first  # invalidated, so never handed out again
