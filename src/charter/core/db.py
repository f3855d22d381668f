"""Engines, sessions and the declarative base. Services take a `Session`; the caller owns the transaction."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def normalise_url(url: str) -> str:
    """Pick the drivers Charter ships with when the URL names only the database kind."""
    parsed = make_url(url)
    driver = {"postgresql": "postgresql+psycopg", "mysql": "mysql+pymysql", "mariadb": "mysql+pymysql"}
    if parsed.drivername in driver:
        parsed = parsed.set(drivername=driver[parsed.drivername])
    return parsed.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


class JsonText(dict[str, Any]):
    """A JSON object that keeps its text once encoded, for one written unchanged again and again (a plan's task, in
    the task rows of every request planned with it): `dump_json` encodes it once. Shared: never change one."""

    __slots__ = ("_text",)

    def text(self) -> str:
        try:
            return self._text
        except AttributeError:
            self._text: str = json.dumps(self)
            return self._text


def dump_json(value: Any) -> str:
    """How JSON columns are written (`make_engine`): as `json.dumps`, but a `JsonText` as the text it keeps."""
    return value.text() if type(value) is JsonText else json.dumps(value)


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    kwargs.setdefault("json_serializer", dump_json)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return ping_when_idle(create_engine(url, **kwargs))


PING_AFTER_IDLE = 1.0
"""Seconds a pooled connection may have been unused and still be handed out without a liveness check."""
_LAST_USED = "charter.last_used"


def ping_when_idle(engine: Engine) -> Engine:
    """Check a pooled connection is alive before handing it out, as `pool_pre_ping` does, but only when it has
    been unused for `PING_AFTER_IDLE` seconds: a server that closed it (a restart, an idle timeout, a proxy) did so
    while it sat in the pool. Back-to-back work skips a round trip per checkout. A connection that dies within
    the second is found dead by its next statement; disconnects invalidate it, so the pool never hands it out
    again."""

    def used(_dbapi: Any, record: ConnectionPoolEntry, *_: Any) -> None:
        record.info[_LAST_USED] = time.monotonic()

    def check(dbapi: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        if time.monotonic() - record.info.get(_LAST_USED, 0.0) < PING_AFTER_IDLE:
            return
        try:
            engine.dialect.do_ping(dbapi)
        except engine.dialect.loaded_dbapi.Error as exc:  # the pool replaces the connection and tries again
            raise DisconnectionError(f"a pooled connection was closed by the server: {type(exc).__name__}") from exc
        record.info[_LAST_USED] = time.monotonic()

    event.listen(engine, "connect", used)
    event.listen(engine, "checkin", used)
    event.listen(engine, "checkout", check)
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit when the block ends, roll back if it raises."""
    with factory() as session, session.begin():
        yield session


_AFTER_COMMIT = "charter.after_commit"


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run `callback` once this session's transaction has committed; never if it rolls back.

    For work that must not see uncommitted rows or must not happen for a failed request: enqueuing tasks,
    telling in-process caches that something changed.
    """
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    for callback in session.info.pop(_AFTER_COMMIT, []):
        callback()


@event.listens_for(Session, "after_rollback")
def _drop_after_commit(session: Session) -> None:
    session.info.pop(_AFTER_COMMIT, None)
