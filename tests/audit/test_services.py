from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session, sessionmaker

from charter.audit.models import AuditEvent
from charter.audit.services import AuditLog, Entry, batched
from charter.core.db import make_engine, session_factory
from charter.migrations import upgrade
from charter.subjects.models import Subject
from tests.factories import make_controller
from tests.services import fresh_postgres_database


@pytest.fixture(scope="module")
def postgres_sessions() -> Iterator[sessionmaker[Session]]:
    """Row locks are PostgreSQL's (SQLite has one write lock for the whole database)."""
    with fresh_postgres_database() as url:
        upgrade(url)
        engine = make_engine(url)
        yield session_factory(engine)
        engine.dispose()


def _chain(sessions: sessionmaker[Session], events: int = 5) -> str:
    with sessions() as s, s.begin():
        cid = make_controller(s)
        log = AuditLog(s)
        for i in range(events):
            log.record(cid, actor="test", action="thing.done", target=f"thing:{i}", data={"n": i})
    return cid


def _verify(sessions: sessionmaker[Session], cid: str) -> tuple[bool, int | None, str]:
    with sessions() as s:
        r = AuditLog(s).verify(cid)
        return r.ok, r.broken_at, r.reason


def test_an_untouched_chain_verifies(sessions: sessionmaker[Session]) -> None:
    cid = _chain(sessions)
    ok, _, _ = _verify(sessions, cid)
    assert ok
    with sessions() as s:
        seqs = s.execute(select(AuditEvent.seq).where(AuditEvent.controller_id == cid)
                         .order_by(AuditEvent.seq)).scalars().all()
    assert seqs == [1, 2, 3, 4, 5, 6]  # controller.created plus five


def test_an_edited_event_is_caught_at_its_place(sessions: sessionmaker[Session]) -> None:
    cid = _chain(sessions)
    with sessions() as s, s.begin():
        s.execute(update(AuditEvent).where(AuditEvent.controller_id == cid, AuditEvent.seq == 4)
                  .values(target="thing:forged"))
    assert _verify(sessions, cid)[:2] == (False, 4)
    assert "altered" in _verify(sessions, cid)[2]


def test_a_deleted_event_is_caught(sessions: sessionmaker[Session]) -> None:
    cid = _chain(sessions)
    with sessions() as s, s.begin():
        s.execute(text("DELETE FROM audit_events WHERE controller_id = :c AND seq = 3"), {"c": cid})
    ok, at, reason = _verify(sessions, cid)
    assert (ok, at) == (False, 3)
    assert "missing" in reason


def test_a_deleted_last_event_is_caught(sessions: sessionmaker[Session]) -> None:
    cid = _chain(sessions)
    with sessions() as s, s.begin():
        s.execute(text("DELETE FROM audit_events WHERE controller_id = :c AND seq = 6"), {"c": cid})
    ok, _, reason = _verify(sessions, cid)
    assert not ok
    assert "removed" in reason


def test_reordered_events_are_caught(sessions: sessionmaker[Session]) -> None:
    cid = _chain(sessions)
    with sessions() as s, s.begin():
        for old, new in ((2, -1), (5, 2), (-1, 5)):
            s.execute(update(AuditEvent).where(AuditEvent.controller_id == cid, AuditEvent.seq == old)
                      .values(seq=new))
    ok, at, _ = _verify(sessions, cid)
    assert (ok, at) == (False, 2)


def test_chains_are_per_controller(sessions: sessionmaker[Session]) -> None:
    a, b = _chain(sessions, 2), _chain(sessions, 3)
    with sessions() as s, s.begin():
        s.execute(update(AuditEvent).where(AuditEvent.controller_id == a, AuditEvent.seq == 2)
                  .values(actor="someone else"))
    assert not _verify(sessions, a)[0]
    assert _verify(sessions, b)[0]


def test_concurrent_writers_never_fork_the_chain(sessions: sessionmaker[Session]) -> None:
    """Eight writers, each reading the controller first (as a page's sign-in check does), then appending."""
    import threading  # noqa: PLC0415

    from charter.core.models import Controller  # noqa: PLC0415

    cid = _chain(sessions, 0)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(10):
                with sessions() as s, s.begin():
                    assert s.get(Controller, cid) is not None
                    AuditLog(s).record(cid, actor=f"w{n}", action="thing.done", target=f"thing:{n}.{i}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    ok, _, reason = _verify(sessions, cid)
    assert ok, reason
    with sessions() as s:
        assert AuditLog(s).verify(cid).checked == 81


def _actions(sessions: sessionmaker[Session], cid: str) -> list[str]:
    with sessions() as s:
        return list(s.execute(select(AuditEvent.target).where(AuditEvent.controller_id == cid)
                              .order_by(AuditEvent.seq)).scalars())


def test_events_recorded_in_a_batch_are_written_at_its_end_in_order(sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        cid = make_controller(s)
        log = AuditLog(s)
        with batched(s):
            log.record(cid, actor="test", action="thing.done", target="thing:1")
            with batched(s):  # an inner block leaves its events to the outer one
                log.record_many(cid, [Entry("test", "thing.done", "thing:2"), Entry("test", "thing.done", "thing:3")])
            assert s.execute(select(AuditEvent.id).where(AuditEvent.controller_id == cid,
                                                         AuditEvent.target.like("thing:%"))).first() is None
            log.record(cid, actor="test", action="thing.done", target="thing:4", data={"n": 4})
    assert _actions(sessions, cid)[1:] == ["thing:1", "thing:2", "thing:3", "thing:4"]
    assert _verify(sessions, cid)[0]


def test_a_batch_that_raises_still_writes_what_its_caller_may_commit(sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        cid = make_controller(s)
        with pytest.raises(ValueError, match="refused"), batched(s):
            AuditLog(s).record(cid, actor="test", action="thing.tried", target="thing:1")
            raise ValueError("refused")
    assert _actions(sessions, cid)[1:] == ["thing:1"]
    assert _verify(sessions, cid)[0]


def test_writers_holding_key_share_locks_on_the_controller_do_not_deadlock(postgres_sessions: sessionmaker[Session]
                                                                           ) -> None:
    """Inserting a row that references the controller takes a key-share lock on its row; two transactions that
    each did so and then extend the chain must queue, not deadlock (FOR UPDATE would conflict with both)."""
    with postgres_sessions() as s, s.begin():
        cid = make_controller(s)
    both_inserted = threading.Barrier(2, timeout=10)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            with postgres_sessions() as s, s.begin():
                s.add(Subject(id=str(uuid.uuid4()), controller_id=cid))
                s.flush()
                both_inserted.wait()
                AuditLog(s).record(cid, actor="test", action="thing.done", target=f"thing:{n}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sorted(_actions(sessions=postgres_sessions, cid=cid)[1:]) == ["thing:1", "thing:2"]
    assert _verify(postgres_sessions, cid)[0]
