from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, sessionmaker

from charter.audit.models import AuditEvent
from charter.audit.services import AuditLog
from charter.core.crypto import Keyring
from charter.core.db import make_engine, session_factory
from charter.core.errors import Conflict
from charter.migrations import upgrade
from charter.subjects.models import Identity, Subject
from charter.subjects.services import SubjectDirectory, reencrypt_identities
from tests.factories import make_controller


def test_identities_are_encrypted_and_found_by_blind_index(
        sessions: sessionmaker[Session], keyring: Keyring) -> None:
    with sessions() as s, s.begin():
        cid = make_controller(s)
        d = SubjectDirectory(s, keyring)
        subject = d.resolve(cid, "email", "Wang.Fang@Example.com", actor="test")
        d.link(cid, subject.id, "phone", "138 0013 8000", actor="test")
    with sessions() as s:
        d = SubjectDirectory(s, keyring)
        assert d.find(cid, "email", "wang.fang@example.com ").id == subject.id  # type: ignore[union-attr]
        assert d.find(cid, "phone", "+86 13800138000").id == subject.id  # type: ignore[union-attr]
        stored = s.execute(select(Identity.value_encrypted).where(Identity.controller_id == cid)).scalars().all()
        assert all("example.com" not in v and "13800138000" not in v for v in stored)
        values = {(i.kind.value, i.value) for i in d.identities(cid, subject.id)}
        assert values == {("email", "wang.fang@example.com"), ("phone", "+8613800138000")}
        audit = s.execute(select(AuditEvent.data).where(AuditEvent.controller_id == cid)).scalars().all()
        assert all("example.com" not in str(a) for a in audit)
        assert AuditLog(s).verify(cid).ok


def test_same_identity_in_two_controllers_is_two_people(
        sessions: sessionmaker[Session], keyring: Keyring) -> None:
    with sessions() as s, s.begin():
        a, b = make_controller(s), make_controller(s)
        d = SubjectDirectory(s, keyring)
        sa = d.resolve(a, "email", "x@y.com", actor="test")
        sb = d.resolve(b, "email", "x@y.com", actor="test")
        assert sa.id != sb.id
        assert d.find(b, "email", "x@y.com").id == sb.id  # type: ignore[union-attr]


def test_an_identity_cannot_belong_to_two_people(sessions: sessionmaker[Session], keyring: Keyring) -> None:
    with sessions() as s, s.begin():
        cid = make_controller(s)
        d = SubjectDirectory(s, keyring)
        d.resolve(cid, "email", "a@y.com", actor="test")
        other = d.resolve(cid, "email", "b@y.com", actor="test")
        with pytest.raises(Conflict):
            d.link(cid, other.id, "email", "a@y.com", actor="test")


def test_a_corrected_identity_replaces_the_old_one_and_is_never_taken_from_another_person(
        sessions: sessionmaker[Session], keyring: Keyring) -> None:
    with sessions() as s, s.begin():
        cid = make_controller(s)
        d = SubjectDirectory(s, keyring)
        ann = d.resolve(cid, "phone", "+86 137 0000 0001", actor="test")
        d.link(cid, ann.id, "email", "ann@y.com", actor="test")
        bob = d.resolve(cid, "phone", "+86 137 0000 0002", actor="test")
        assert d.replace_identities(cid, ann.id, "phone", "+86 137 0000 0003", actor="test") == 1
        assert sorted((i.kind.value, i.value) for i in d.identities(cid, ann.id)) == [
            ("email", "ann@y.com"), ("phone", "+8613700000003")]
        assert d.find(cid, "phone", "+86 137 0000 0001") is None
        with pytest.raises(Conflict, match="belongs to another person"):
            d.replace_identities(cid, ann.id, "phone", "+86 137 0000 0002", actor="test")
        found = d.find(cid, "phone", "+86 137 0000 0002")
        assert found is not None and found.id == bob.id
        assert [i.value for i in d.identities(cid, ann.id) if i.kind.value == "phone"] == ["+8613700000003"]
        # the same value again changes nothing
        assert d.replace_identities(cid, ann.id, "phone", "+8613700000003", actor="test") == 0
        assert len(d.identities(cid, ann.id)) == 2


def test_two_requests_meeting_a_new_person_at_once_find_one_subject(
        database_url: str, sessions: sessionmaker[Session], keyring: Keyring) -> None:
    """The second of two concurrent first sightings of an identity gets the first one's subject, not a conflict.

    Seen with Landups: its courier delivering the sign-up and the console page asking a decision for the same new
    account at the same moment; one of them was answered 409 and the sign-up report was dropped as refused."""
    with sessions() as s, s.begin():
        cid = make_controller(s)
    other_engine = make_engine(database_url)   # another process: its own connections
    made: list[str] = []

    def someone_else_first(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        # Right after our look-up found nobody, another request creates the person and commits.
        if not made and "FROM subjects JOIN identities" in statement and conn.engine is engine_of_ours:
            with session_factory(other_engine)() as o, o.begin():
                made.append(SubjectDirectory(o, keyring).resolve(cid, "email", "new@y.com", actor="other").id)

    engine_of_ours = sessions.kw["bind"]
    event.listen(engine_of_ours, "after_cursor_execute", someone_else_first)
    try:
        with sessions() as s, s.begin():
            ours = SubjectDirectory(s, keyring).resolve(cid, "email", "new@y.com", actor="test")
    finally:
        event.remove(engine_of_ours, "after_cursor_execute", someone_else_first)
        other_engine.dispose()
    assert made and ours.id == made[0]
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Subject).where(Subject.controller_id == cid)) == 1
        assert AuditLog(s).verify(cid).ok


def test_rotation_reencrypts_and_lookups_still_work(fresh_database_url: str) -> None:
    upgrade(fresh_database_url)
    engine = make_engine(fresh_database_url)
    sessions = session_factory(engine)
    old = Keyring.generate()
    with sessions() as s, s.begin():
        cid = make_controller(s)
        subject = SubjectDirectory(s, old).resolve(cid, "email", "r@y.com", actor="test")
    new = old.rotated()
    with sessions() as s, s.begin():
        assert reencrypt_identities(s, old, new) >= 1
    with sessions() as s:
        row = s.execute(select(Identity).where(Identity.subject_id == subject.id)).scalar_one()
        assert row.value_encrypted.startswith("k2:")
        d = SubjectDirectory(s, new)
        assert d.find(cid, "email", "r@y.com").id == subject.id  # type: ignore[union-attr]
        assert d.identities(cid, subject.id)[0].value == "r@y.com"
    engine.dispose()
