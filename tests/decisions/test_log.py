"""The decision log against erasure, on SQLite and PostgreSQL: the log is written in batches after the decisions,
so a batch and an erasure of the same person can run at the same time. Whichever commits second, the erased
person's id is not in the log afterwards."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from charter.core.crypto import Keyring
from charter.decisions.core import Decision, Question
from charter.decisions.interfaces import LogEntry
from charter.decisions.models import DecisionRecord
from charter.decisions.services import forget_subject, write_decision_log
from tests.decisions.test_decider import _person


def _entry(cid: str, subject: str) -> LogEntry:
    allowed = Decision(allowed=True, basis="consent", exception=None, reasons=(), obligations=(), ask_consent=False,
                       purpose="analytics", is_logged=True)
    return LogEntry(time.time(), cid, subject, Question("analytics"), allowed, "record-1", "sha256:policy")


def _logged(sessions: sessionmaker[Session], cid: str) -> list[str | None]:
    with sessions() as s:
        return list(s.execute(select(DecisionRecord.subject_id).where(DecisionRecord.controller_id == cid)).scalars())


def _in_thread(work: Callable[[], None]) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


@pytest.mark.parametrize("first", ["log", "erasure"])
def test_a_log_batch_and_an_erasure_of_the_same_person_never_leave_the_id(
        sessions: sessionmaker[Session], keyring: Keyring, first: str) -> None:
    cid, subject = _person(sessions, keyring)
    entry = _entry(cid, subject)  # decided before the erasure

    def write() -> None:
        with sessions() as s, s.begin():
            write_decision_log(s, [entry])

    def erase() -> None:
        with sessions() as s, s.begin():
            forget_subject(s, cid, subject)

    with sessions() as held:
        held.begin()
        # The first one holds its transaction open while the second starts; the second must wait or see it.
        if first == "log":
            write_decision_log(held, [entry])
            thread, errors = _in_thread(erase)
        else:
            forget_subject(held, cid, subject)
            thread, errors = _in_thread(write)
        time.sleep(0.5)
        held.commit()
    thread.join(30)
    assert errors == []
    assert _logged(sessions, cid) == [None]
