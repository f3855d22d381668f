from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session, sessionmaker

from charter.accounts.services import ControllerService
from charter.audit.models import AuditEvent
from charter.audit.services import AuditLog, Entry, batched
from charter.consent.schemas import ConsentIn
from charter.consent.services import ConsentLedger
from charter.core.crypto import Keyring
from charter.core.db import make_engine, session_factory
from charter.core.locks import locked_controller
from charter.core.models import Controller
from charter.decisions.services import load_terms
from charter.migrations import upgrade
from charter.policy.services import PolicyStore
from charter.subjects.models import Subject
from charter.subjects.services import SubjectDirectory
from tests.factories import example_policy_text, make_controller, new_controller_id
from tests.services import fresh_mariadb_database, fresh_postgres_database


def _migrated(fresh: Callable[[], AbstractContextManager[str]]) -> Iterator[sessionmaker[Session]]:
    with fresh() as url:
        upgrade(url)
        engine = make_engine(url)
        yield session_factory(engine)
        engine.dispose()


@pytest.fixture(scope="module")
def postgres_sessions() -> Iterator[sessionmaker[Session]]:
    """Row locks are PostgreSQL's (SQLite has one write lock for the whole database)."""
    yield from _migrated(fresh_postgres_database)


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


def _seqs(sessions: sessionmaker[Session], cid: str) -> list[int]:
    with sessions() as s:
        return _seqs_in(s, cid)


def test_a_rolled_back_savepoint_takes_its_events_and_its_head_with_it(sessions: sessionmaker[Session]) -> None:
    """The head a transaction remembers between its appends is not the one a rolled-back savepoint wrote."""
    with sessions() as s, s.begin():
        cid = make_controller(s)
        log = AuditLog(s)
        log.record(cid, actor="test", action="thing.done", target="thing:1")
        savepoint = s.begin_nested()
        log.record_many(cid, [Entry("test", "thing.tried", "thing:2"), Entry("test", "thing.tried", "thing:3")])
        savepoint.rollback()
        log.record(cid, actor="test", action="thing.done", target="thing:4")
        with s.begin_nested():  # a savepoint kept: its events stay, and so does the head it moved
            log.record(cid, actor="test", action="thing.done", target="thing:5")
        log.record_many(cid, [Entry("test", "thing.done", "thing:6")])
    assert _actions(sessions, cid)[1:] == ["thing:1", "thing:4", "thing:5", "thing:6"]
    assert _seqs(sessions, cid) == [1, 2, 3, 4, 5]
    assert _verify(sessions, cid)[0]


def test_a_rolled_back_savepoint_leaves_the_held_row_with_the_head_before_it(sessions: sessionmaker[Session]) -> None:
    """The head moved in a savepoint (or in one committed inside it) is not what the held row says once that
    savepoint is rolled back: it is read again, in this session as from any other."""
    with sessions() as s, s.begin():
        cid = make_controller(s)
        log = AuditLog(s)
        controller = locked_controller(s, cid)
        assert controller is not None
        with pytest.raises(ValueError, match="undo"), s.begin_nested():
            with s.begin_nested():
                log.record_many(cid, [Entry("test", "thing.tried", "thing:1")])
            log.record(cid, actor="test", action="thing.tried", target="thing:2")
            assert controller.audit_head_seq == 3
            raise ValueError("undo")
        assert (controller.audit_head_seq, s.get(Controller, cid)) == (1, controller)
        assert AuditLog(s).verify(cid).ok
        log.record_many(cid, [Entry("test", "thing.done", "thing:3")])
    assert _actions(sessions, cid)[1:] == ["thing:3"]
    assert _verify(sessions, cid)[0]


def test_what_the_caller_left_pending_is_flushed_by_an_append(sessions: sessionmaker[Session]) -> None:
    """An append flushes the session, as it did when it wrote through the ORM: a row added before it is in the
    database after it, whether or not the controller's lock was already held."""
    with sessions() as s, s.begin():
        cid = make_controller(s)
        for held in (False, True):
            if held:
                locked_controller(s, cid)
            subject = Subject(id=str(uuid.uuid4()), controller_id=cid)
            s.add(subject)
            with s.no_autoflush:
                AuditLog(s).record_many(cid, [Entry("test", "thing.done", f"subject:{subject.id}")])
                assert not s.new
                assert s.execute(select(Subject.id).where(Subject.id == subject.id)).scalar_one() == subject.id


def test_events_around_the_consent_ledger_in_one_transaction_verify(sessions: sessionmaker[Session],
                                                                      keyring: Keyring) -> None:
    """The ledger's batch moves the audit head itself (on PostgreSQL in raw SQL, behind the ORM's back); an append
    after it in the same transaction follows the head it left, not the one the transaction wrote before."""
    cid = new_controller_id()
    with sessions() as s, s.begin():
        ControllerService(s).create(cid, "Ledger Co", actor="test")
        PolicyStore(s).publish(cid, example_policy_text(cid), source="test", actor="test")
        subject = SubjectDirectory(s, keyring).resolve(cid, "email", "p@example.com", actor="test").id
    with sessions() as s:
        terms = load_terms(s, cid, dt.date.today())
    with sessions() as s, s.begin():
        log = AuditLog(s)
        log.record(cid, actor="test", action="thing.done", target="thing:1")
        ConsentLedger(s, keyring).record_many(cid, [ConsentIn(subject_id=subject, purpose="analytics")], terms,
                                              actor="test", is_batch=True)
        log.record(cid, actor="test", action="thing.done", target="thing:2")
        ConsentLedger(s, keyring).record_many(cid, [ConsentIn(subject_id=subject, purpose="analytics",
                                                              action="withdraw")], terms, actor="test")
        log.record_many(cid, [Entry("test", "thing.done", "thing:3")])
    assert [a for a in _actions(sessions, cid) if a.startswith("thing:")] == ["thing:1", "thing:2", "thing:3"]
    ok, at, reason = _verify(sessions, cid)
    assert ok, (at, reason)


def test_a_lock_lost_with_its_savepoint_is_taken_again(postgres_sessions: sessionmaker[Session]) -> None:
    """PostgreSQL releases a row lock taken in a savepoint that is rolled back: another writer may extend the chain
    then, and the next append must read the head again rather than trust the one read under the lost lock."""
    with postgres_sessions() as s, s.begin():
        cid = make_controller(s)
    other_wrote = threading.Event()

    def other_writer() -> None:
        with postgres_sessions() as s, s.begin():
            AuditLog(s).record(cid, actor="other", action="thing.done", target="thing:other")
        other_wrote.set()

    with postgres_sessions() as s, s.begin():
        savepoint = s.begin_nested()
        assert locked_controller(s, cid) is not None
        savepoint.rollback()
        thread = threading.Thread(target=other_writer)
        thread.start()
        assert other_wrote.wait(10), "the other writer still waits for a lock that was released"
        thread.join()
        AuditLog(s).record(cid, actor="test", action="thing.done", target="thing:mine")
    assert _actions(postgres_sessions, cid)[1:] == ["thing:other", "thing:mine"]
    assert _verify(postgres_sessions, cid)[0]


@pytest.fixture(scope="module")
def mariadb_sessions() -> Iterator[sessionmaker[Session]]:
    """InnoDB's REPEATABLE READ: a plain read sees the transaction's snapshot, a locking read the newest row."""
    yield from _migrated(fresh_mariadb_database)


def test_a_head_read_back_from_an_older_snapshot_is_not_trusted(mariadb_sessions: sessionmaker[Session]) -> None:
    """After the lock, the row expired and read again without it comes from the transaction's snapshot on MariaDB,
    older than the head read under the lock: the next append reads the head under the lock again."""
    with mariadb_sessions() as s, s.begin():
        cid = make_controller(s)
    with mariadb_sessions() as s, s.begin():
        assert _seqs_in(s, cid) == [1]  # the snapshot is taken here
        with mariadb_sessions() as other, other.begin():
            AuditLog(other).record(cid, actor="other", action="thing.done", target="thing:other")
        controller = locked_controller(s, cid)
        assert controller is not None and controller.audit_head_seq == 2
        s.expire_all()
        assert controller.name == "Test Co" and controller.audit_head_seq == 1  # read back from the snapshot
        AuditLog(s).record(cid, actor="test", action="thing.done", target="thing:mine")
    assert _actions(mariadb_sessions, cid)[1:] == ["thing:other", "thing:mine"]
    assert _seqs(mariadb_sessions, cid) == [1, 2, 3]  # not verified: MariaDB's DATETIME drops what the hash covers


def _seqs_in(session: Session, cid: str) -> list[int]:
    return list(session.execute(select(AuditEvent.seq).where(AuditEvent.controller_id == cid)
                                .order_by(AuditEvent.seq)).scalars())


def test_the_row_read_under_the_lock_is_not_kept_past_its_transaction(sessions: sessionmaker[Session]) -> None:
    """A session's next transaction reads the controller again (another may have renamed it or stopped its
    collection meanwhile), not the row the last append held."""
    with sessions() as s, s.begin():
        cid = make_controller(s)
    with sessions() as s:
        with s.begin():
            AuditLog(s).record(cid, actor="test", action="thing.done", target="thing:1")
        with sessions() as other, other.begin():
            other.execute(update(Controller).where(Controller.id == cid).values(name="Renamed"))
            AuditLog(other).record(cid, actor="other", action="thing.done", target="thing:2")
        with s.begin():
            controller = s.get(Controller, cid)
            assert controller is not None and (controller.name, controller.audit_head_seq) == ("Renamed", 3)
            AuditLog(s).record(cid, actor="test", action="thing.done", target="thing:3")
    assert _actions(sessions, cid)[1:] == ["thing:1", "thing:2", "thing:3"]
    assert _verify(sessions, cid)[0]
