from __future__ import annotations

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session, sessionmaker

from charter.audit.models import AuditEvent
from charter.audit.services import AuditLog
from tests.factories import make_controller


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
