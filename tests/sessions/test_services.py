from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session, sessionmaker

from charter.sessions.services import SessionStore, token_id
from tests.factories import make_controller

HOUR, MINUTE = dt.timedelta(hours=1), dt.timedelta(minutes=1)


def test_a_session_is_found_by_its_token_and_stored_only_as_a_hash(sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        cid = make_controller(s)
        store = SessionStore(s)
        opened = store.open(cid, kind="staff", principal="staff:1", stage="full", lifetime=HOUR, idle=MINUTE * 30)
        assert opened.record.id == token_id(opened.token) != opened.token
        assert store.find(opened.token, kind="staff") is opened.record
        assert store.find(opened.token, kind="person") is None
        assert store.find("not-a-token", kind="staff") is None


def test_closed_idle_and_expired_sessions_are_not_found(sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        cid = make_controller(s)
        store = SessionStore(s)

        def new() -> tuple[str, object]:
            o = store.open(cid, kind="staff", principal="staff:2", stage="full", lifetime=HOUR, idle=MINUTE * 30)
            return o.token, o.record

        closed, record = new()
        store.close(record)  # type: ignore[arg-type]
        assert store.find(closed, kind="staff") is None
        idle, record = new()
        record.last_seen_at -= MINUTE * 31  # type: ignore[attr-defined]
        assert store.find(idle, kind="staff") is None
        expired, record = new()
        record.expires_at -= HOUR  # type: ignore[attr-defined]
        assert store.find(expired, kind="staff") is None


def test_close_all_ends_every_session_of_one_principal_only(sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        cid = make_controller(s)
        store = SessionStore(s)
        mine = [store.open(cid, kind="staff", principal="staff:7", stage="full", lifetime=HOUR, idle=HOUR)
                for _ in range(2)]
        other = store.open(cid, kind="staff", principal="staff:8", stage="full", lifetime=HOUR, idle=HOUR)
        assert store.open_count(cid, "staff:7") == 2
        assert store.close_all(cid, "staff:7") == 2
        s.expire_all()
        assert all(store.find(o.token, kind="staff") is None for o in mine)
        assert store.find(other.token, kind="staff") is not None
