"""The ledger's service layer on real databases: 50 concurrent writers on PostgreSQL, a batch mixing every kind of
event, erasure tombstones, expiry, and tampering caught by verification."""

from __future__ import annotations

import datetime as dt
import json
import random
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from charter.accounts.services import ControllerService
from charter.audit.services import AuditLog
from charter.consent.chain import commitment
from charter.consent.models import ConsentEvent, ConsentState, GuardianRecord
from charter.consent.schemas import ConsentIn
from charter.consent.services import ConsentLedger
from charter.core.crypto import Keyring
from charter.core.db import make_engine, session_factory, transaction
from charter.core.errors import CharterError
from charter.decisions.services import load_terms
from charter.migrations import upgrade
from charter.policy.services import PolicyStore
from charter.subjects.services import CHANGED_SUBJECTS, SubjectDirectory, changes_since, last_change_id
from tests.factories import example_policy_text, new_controller_id
from tests.services import fresh_postgres_database

WRITERS = 50
ROUNDS = 6
PURPOSES = ("analytics", "personalisation", "marketing_email", "email_tracking")


@pytest.fixture(scope="module")
def pg_sessions() -> Iterator[sessionmaker[Session]]:
    with fresh_postgres_database() as url:
        upgrade(url)
        engine = make_engine(url, pool_size=WRITERS + 5, max_overflow=0)
        yield session_factory(engine)
        engine.dispose()


def _setup(sessions: sessionmaker[Session], keyring: Keyring, people: int) -> tuple[str, list[str]]:
    cid = new_controller_id()
    with transaction(sessions) as s:
        ControllerService(s).create(cid, "Ledger Co", actor="test")
        PolicyStore(s).publish(cid, example_policy_text(cid), source="test", actor="test")
        directory = SubjectDirectory(s, keyring)
        subjects = [directory.resolve(cid, "email", f"p{n}@example.com", actor="test").id for n in range(people)]
    return cid, subjects


def test_fifty_concurrent_writers_lose_and_duplicate_nothing(pg_sessions: sessionmaker[Session],
                                                             keyring: Keyring) -> None:
    cid, subjects = _setup(pg_sessions, keyring, people=5)
    with pg_sessions() as s:
        terms = load_terms(s, cid, dt.date.today())
    barrier = threading.Barrier(WRITERS)
    written: list[str] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def writer(n: int) -> None:
        rng = random.Random(n)
        try:
            barrier.wait()
            for _ in range(ROUNDS):
                items = [ConsentIn(subject_id=rng.choice(subjects), purpose=rng.choice(PURPOSES),
                                   action=rng.choice(["grant", "withdraw", "refuse"]))
                         for _ in range(rng.randint(1, 3))]
                with transaction(pg_sessions) as session:
                    done = ConsentLedger(session, keyring).record_many(cid, items, terms, actor=f"writer:{n}")
                with lock:
                    written.extend(r.record_id for r in done)
        except BaseException as exc:  # reported after the join, so one failing writer does not hang the rest
            failures.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures[:3]
    with pg_sessions() as s:
        ledger = ConsentLedger(s, keyring)
        stored = s.execute(select(ConsentEvent.record_id, ConsentEvent.seq)
                           .where(ConsentEvent.controller_id == cid).order_by(ConsentEvent.seq)).all()
        assert sorted(r.record_id for r in stored) == sorted(written)  # none lost, none twice
        assert [r.seq for r in stored] == list(range(1, len(written) + 1))
        assert ledger.verify(cid).ok
        assert ledger.projected(cid) == ledger.replayed(cid)
        assert len(ledger.projected(cid)) <= len(subjects) * len(PURPOSES)
        # One audit event per batch, in one unforked audit chain that still ends at the controller's head.
        audit = AuditLog(s)
        assert audit.verify(cid).ok
        batches = [e for e in audit.events(cid, limit=10_000) if e.action == "consent.recorded"]
        assert len(batches) == WRITERS * ROUNDS
        assert sum(int(str(e.data["events"])) for e in batches) == len(written)


GUARDIAN = {"name": "王芳", "relationship": "parent", "contact": "+86 138 0013 8000",
            "verification_method": "id_document", "verified_at": "2025-01-02T03:04:05Z", "rules_version": "2023-05"}


def _rows(sessions: sessionmaker[Session], cid: str) -> tuple[int, ...]:
    with sessions() as s:
        return tuple(s.execute(select(func.count()).select_from(model).where(model.controller_id == cid))
                     .scalar_one() for model in (ConsentEvent, ConsentState, GuardianRecord))


def test_a_batch_of_every_kind_of_event_verifies_and_projects_as_its_replay(
        sessions: sessionmaker[Session], keyring: Keyring) -> None:
    """Events of one kind share their checks and their part of the hash; every event keeps its own fields, its
    evidence (as the canonical JSON its commitment covers) and, for a subject and purpose given twice in one batch,
    the later event wins the projection."""
    cid, (a, b, c) = _setup(sessions, keyring, people=3)
    with sessions() as s:
        terms = load_terms(s, cid, dt.date.today())
    agent = 'Mozilla/5.0 "Quoted" \\ back\tslash 浏览器 \u2028'
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    raw: list[dict[str, object]] = [
        {"subject_id": a, "purpose": "analytics", "evidence": {"ip": "198.51.100.7", "user_agent": agent}},
        {"subject_id": b, "purpose": "analytics", "action": "refuse", "evidence": {"user_agent": agent}},
        {"subject_id": a, "purpose": "personalisation", "evidence": {"ip": "2001:DB8:0:0::1", "gpc": True,
                                                                     "request_id": "req-7"}},
        {"subject_id": c, "purpose": "analytics", "valid_until": soon.isoformat(), "language": "en",
         "jurisdiction": "CN", "policy_version": terms.current.version, "channel": "web", "method": "checkbox"},
        {"subject_id": b, "purpose": "minors", "action": "guardian_grant", "guardian": GUARDIAN},
        {"subject_id": a, "purpose": "analytics", "action": "withdraw"},  # a's analytics again: this one wins
    ]
    items = [ConsentIn.model_validate(item) for item in raw]
    with transaction(sessions) as s:
        done = ConsentLedger(s, keyring).record_many(cid, items, terms, actor="test", is_batch=True)
    assert [(d.seq, d.action, d.status) for d in done] == [
        (1, "grant", "granted"), (2, "refuse", "refused"), (3, "grant", "granted"), (4, "grant", "granted"),
        (5, "guardian_grant", "granted"), (6, "withdraw", "withdrawn")]
    with sessions() as s:
        ledger = ConsentLedger(s, keyring)
        assert ledger.verify(cid).ok
        assert ledger.projected(cid) == ledger.replayed(cid)
        states = {(st.subject_id, st.purpose): st for st in s.execute(
            select(ConsentState).where(ConsentState.controller_id == cid)).scalars()}
        assert (states[a, "analytics"].status, states[a, "analytics"].seq) == ("withdrawn", 6)
        assert states[b, "minors"].by_guardian and states[b, "minors"].consent_kind == "guardian"
        assert states[c, "analytics"].valid_until is not None
        kept = [({"ip": "198.51.100.7", "user_agent": agent}), {"user_agent": agent}, {"ip": "2001:db8::1"}, {}, {},
                {}]
        for record, evidence in zip(done, kept, strict=True):
            event = ledger.event(cid, record.record_id)
            assert ledger.evidence(cid, record.record_id) == evidence
            canonical = json.dumps(evidence, separators=(",", ":"), ensure_ascii=False)
            assert event.evidence_commitment == commitment(event.salt or "", "evidence", canonical)
            assert event.subject_commitment == commitment(event.salt or "", "subject", record.subject_id)
        third = ledger.event(cid, done[2].record_id)
        assert (third.gpc, third.request_id) == (True, "req-7")
        assert ledger.event(cid, done[4].record_id).guardian_record_id is not None
    before = _rows(sessions, cid)
    bad = [*items[:3], ConsentIn(subject_id=c, purpose="analytics", jurisdiction="HK")]
    with transaction(sessions) as s, pytest.raises(CharterError) as err:
        ConsentLedger(s, keyring).record_many(cid, bad, terms, actor="test", is_batch=True)
    assert err.value.field == "[3].jurisdiction"
    assert _rows(sessions, cid) == before


def test_erasure_leaves_a_tombstone_that_still_verifies(sessions: sessionmaker[Session], keyring: Keyring) -> None:
    cid, (subject, other) = _setup(sessions, keyring, people=2)
    with sessions() as s:
        terms = load_terms(s, cid, dt.date.today())
    with transaction(sessions) as s:
        ledger = ConsentLedger(s, keyring)
        kept = ledger.record(cid, ConsentIn(subject_id=other, purpose="analytics"), terms, actor="test")
        granted = ledger.record(cid, ConsentIn(subject_id=subject, purpose="analytics",
                                               evidence={"ip": "198.51.100.7", "user_agent": "UA"}), terms,
                                actor="test")
    with transaction(sessions) as s:
        assert ConsentLedger(s, keyring).erase_subject(cid, subject, actor="test") == 1
    with sessions() as s:
        ledger = ConsentLedger(s, keyring)
        assert ledger.verify(cid).ok
        tomb = ledger.event(cid, granted.record_id)
        assert (tomb.subject_id, tomb.salt, tomb.evidence_encrypted) == (None, None, None)
        assert tomb.erased_at is not None
        receipt = ledger.receipt(cid, granted.record_id, lambda _h: terms.in_force)
        assert receipt["pii_principal"] == {"erased": True, "commitment": tomb.subject_commitment}
        assert (receipt["event"]["type"], receipt["purpose"]["id"], receipt["ledger"]["erased"]) == (
            "given", "analytics", True)
        assert subject not in str(receipt)
        assert ledger.states(cid, subject) == []
        assert ledger.projected(cid) == ledger.replayed(cid)
        assert ledger.event(cid, kept.record_id).subject_id == other


def test_erasure_clears_the_guardians_record_and_tells_deciders(sessions: sessionmaker[Session],
                                                               keyring: Keyring) -> None:
    """A guardian's record goes with the minor's erasure (another minor's stays); what the session already held
    reads as erased; in-process deciders are told at commit and other processes through `subject_changes`."""
    cid, (minor, other) = _setup(sessions, keyring, people=2)
    with sessions() as s:
        terms = load_terms(s, cid, dt.date.today())
    items = [ConsentIn.model_validate({"subject_id": person, "purpose": "minors", "action": "guardian_grant",
                                       "guardian": GUARDIAN}) for person in (minor, other)]
    with transaction(sessions) as s:
        ConsentLedger(s, keyring).record_many(cid, [*items, ConsentIn(subject_id=minor, purpose="analytics")],
                                              terms, actor="test", is_batch=True)
        before = last_change_id(s, cid)
    with transaction(sessions) as s:
        ledger = ConsentLedger(s, keyring)
        held, states = ledger.history(cid, minor), ledger.states(cid, minor)
        guardian = s.execute(select(GuardianRecord).where(GuardianRecord.subject_id == minor)).scalar_one()
        assert ledger.erase_subject(cid, minor, actor="test") == 2
        assert [(e.subject_id, e.salt, e.evidence_encrypted, e.erased_at is not None) for e in held] == [
            (None, None, None, True)] * 2
        assert (guardian.subject_id, guardian.details_encrypted, guardian.contact_index) == (None, None, None)
        assert guardian.erased_at is not None
        assert len(states) == 2 and not any(state in s for state in states)
        assert (cid, minor) in s.info[CHANGED_SUBJECTS]
    with sessions() as s:
        ledger = ConsentLedger(s, keyring)
        assert ledger.verify(cid).ok
        assert ledger.projected(cid) == ledger.replayed(cid)
        assert ledger.states(cid, other) != []
        records = s.execute(select(GuardianRecord).where(GuardianRecord.controller_id == cid)
                            .order_by(GuardianRecord.erased_at.is_(None))).scalars().all()
        assert [(r.subject_id, r.details_encrypted is None, r.contact_index is None, r.erased_at is None)
                for r in records] == [(None, True, True, False), (other, False, False, True)]
        assert changes_since(s, cid, before)[1] == {minor}
        erased = AuditLog(s).events(cid, limit=1)[0]
        assert (erased.action, erased.target, erased.data) == ("consent.subject_erased", f"subject:{minor}",
                                                               {"events": 2})
    with transaction(sessions) as s:  # an erasure run again finds nothing left to erase
        assert ConsentLedger(s, keyring).erase_subject(cid, minor, actor="test") == 0
    with sessions() as s:
        assert ConsentLedger(s, keyring).verify(cid).ok


def test_tampering_with_an_event_is_caught(sessions: sessionmaker[Session], keyring: Keyring) -> None:
    cid, (subject,) = _setup(sessions, keyring, people=1)
    with sessions() as s:
        terms = load_terms(s, cid, dt.date.today())
    with transaction(sessions) as s:
        ledger = ConsentLedger(s, keyring)
        first = ledger.record(cid, ConsentIn(subject_id=subject, purpose="analytics", action="refuse"), terms,
                              actor="test")
        ledger.record(cid, ConsentIn(subject_id=subject, purpose="personalisation"), terms, actor="test")
    with transaction(sessions) as s:
        s.execute(update(ConsentEvent).where(ConsentEvent.record_id == first.record_id).values(action="grant"))
    with sessions() as s:
        result = ConsentLedger(s, keyring).verify(cid)
    assert (result.ok, result.broken_at) == (False, 1)


def test_expired_consents_are_swept_into_expire_events(sessions: sessionmaker[Session], keyring: Keyring) -> None:
    cid, (subject,) = _setup(sessions, keyring, people=1)
    with sessions() as s:
        terms = load_terms(s, cid, dt.date.today())
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    with transaction(sessions) as s:
        ConsentLedger(s, keyring).record(cid, ConsentIn(subject_id=subject, purpose="analytics", valid_until=soon),
                                         terms, actor="test")
    with transaction(sessions) as s:
        ledger = ConsentLedger(s, keyring)
        assert ledger.expire_due(cid, terms, actor="test") == []
        done = ledger.expire_due(cid, terms, now=soon + dt.timedelta(seconds=1), actor="test")
        assert [(d.purpose, d.action, d.status) for d in done] == [("analytics", "expire", "expired")]
    with sessions() as s:
        state = s.execute(select(ConsentState).where(ConsentState.controller_id == cid)).scalar_one()
        assert state.status == "expired"
