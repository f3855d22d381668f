"""The decider's database side: policy terms, a subject's state, the change feed, and the decision log."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam, false, func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from charter.consent.models import ConsentState
from charter.consent.services import ConsentLedger
from charter.consent.terms import PolicyTerms, policy_terms
from charter.core.crypto import Keyring
from charter.core.db import transaction, utcnow
from charter.decisions.core import CompiledPolicy, ConsentView, SubjectState
from charter.decisions.interfaces import Changes, Cursor, LogEntry
from charter.decisions.models import DecisionRecord
from charter.policy.models import PolicyVersionRecord
from charter.policy.services import PolicyStore, as_policy
from charter.subjects.age import minor_until
from charter.subjects.models import Subject
from charter.subjects.services import SubjectDirectory, changes_since, last_change_id

__all__ = ["SqlDecisionSource", "forget_subject", "load_terms", "subject_state", "write_decision_log"]


def load_terms(session: Session, controller_id: str, today: dt.date) -> PolicyTerms:
    records = PolicyStore(session).list(controller_id)
    return policy_terms([(as_policy(r), r.content_hash) for r in records], today)


def _epoch(at: dt.datetime | None) -> float | None:
    if at is None:
        return None
    return (at if at.tzinfo else at.replace(tzinfo=dt.UTC)).timestamp()


def view_of(state: ConsentState, terms: PolicyTerms) -> ConsentView:
    return ConsentView(state.status, state.consent_kind, terms.ordinal_of(state.policy_hash),
                       _epoch(state.valid_until), state.record_id, state.by_guardian)


def subject_state(session: Session, keyring: Keyring, controller_id: str, subject_id: str,
                  compiled: CompiledPolicy) -> SubjectState:
    flags = SubjectDirectory(session, keyring).flags(controller_id, subject_id)
    ledger = ConsentLedger(session, keyring)
    consents = {s.purpose: view_of(s, compiled.terms) for s in ledger.states(controller_id, subject_id)}
    until = minor_until(flags.latest_birth, compiled.minor_threshold) if flags.latest_birth else None
    return SubjectState(subject_id, consents, flags.is_restricted, flags.is_suspended, until,
                        ledger.has_guardian(controller_id, subject_id))


def policy_count(session: Session, controller_id: str) -> int:
    return session.execute(select(func.count()).select_from(PolicyVersionRecord)
                           .where(PolicyVersionRecord.controller_id == controller_id)).scalar_one()


def write_decision_log(session: Session, entries: Sequence[LogEntry]) -> int:
    """Merge identical entries and insert one row per distinct decision; returns rows written.

    An entry about a person erased since it was decided is written without their id (`forget_subject`): the
    log is written in batches, after the decisions, and must not bring an erased id back. Each erasure marks
    the person first and clears the log second; this reads the marks under a share lock after taking the
    database's write lock (SQLite), so whichever of the two comes second sees the other's rows."""
    erased = _erased_at(session, entries)
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for e in entries:
        q, d = e.question, e.decision
        until = erased.get((e.controller_id, e.subject_id))
        subject_id = None if until is not None and e.at <= until else e.subject_id
        key = (e.controller_id, subject_id, q, d.basis, d.exception, e.consent_record_id, e.policy_hash)
        at = dt.datetime.fromtimestamp(e.at, dt.UTC)
        row = merged.get(key)
        if row is None:
            merged[key] = {
                "controller_id": e.controller_id, "subject_id": subject_id, "kind": q.kind, "purpose": q.purpose,
                "category": q.category, "recipient": q.recipient, "region": q.region, "channel": q.channel,
                "basis": d.basis or "", "exception": d.exception, "consent_record_id": e.consent_record_id,
                "policy_hash": e.policy_hash, "count": 1, "first_at": at, "last_at": at}
        else:
            row["count"] += 1
            row["last_at"] = max(row["last_at"], at)
    if merged:
        session.execute(insert(DecisionRecord), list(merged.values()))
    return len(merged)


def _erased_at(session: Session, entries: Sequence[LogEntry]) -> dict[tuple[str, str], float]:
    """(controller, subject) → when the person was erased, for the batch's erased subjects."""
    ids = sorted({e.subject_id for e in entries})
    if not ids:
        return {}
    if session.get_bind().dialect.name == "sqlite":
        # A no-op write takes SQLite's write lock now, so no erasure commits between this read and the insert.
        session.execute(update(Subject).where(false()).values(erased_at=Subject.erased_at)
                        .execution_options(synchronize_session=False))
    found: dict[tuple[str, str], float] = {}
    for start in range(0, len(ids), 1000):
        rows = session.execute(select(Subject.controller_id, Subject.id, Subject.erased_at)
                               .where(Subject.id.in_(ids[start:start + 1000]))
                               .with_for_update(read=True))  # FOR SHARE: an erasure marking them waits
        for controller_id, subject_id, erased_at in rows:
            if erased_at is not None:
                found[(controller_id, subject_id)] = _epoch(erased_at) or 0.0
    return found


def forget_subject(session: Session, controller_id: str, subject_id: str) -> int:
    """Erasure: the decision log keeps what was decided and the consent record it rested on (the ledger's
    anonymised tombstone), but no longer whom it was about. The person is marked erased first (`erased_at`), so a
    decision made before now and written later is written without them too. Returns the rows cleared."""
    session.flush()  # Core statements follow: nothing of this session may still be pending
    connection = session.connection()
    values = {"cid": controller_id, "sid": subject_id}
    connection.execute(_MARK_ERASED, {**values, "now": utcnow()})
    return int(connection.execute(_FORGET_DECISIONS, values).rowcount)


_SUBJECTS = cast(Table, Subject.__table__)
_LOG = cast(Table, DecisionRecord.__table__)
_MARK_ERASED = update(_SUBJECTS).where(
    _SUBJECTS.c.controller_id == bindparam("cid"), _SUBJECTS.c.id == bindparam("sid"),
).values(erased_at=bindparam("now"))
_FORGET_DECISIONS = update(_LOG).where(
    _LOG.c.controller_id == bindparam("cid"), _LOG.c.subject_id == bindparam("sid"),
).values(subject_id=None)
"""`forget_subject`'s statements: Core, on the tables, built once."""


class SqlDecisionSource:
    """Reads Charter's own database; each call is its own short transaction."""

    def __init__(self, sessions: sessionmaker[Session], keyring: Keyring) -> None:
        self.sessions = sessions
        self.keyring = keyring

    def terms(self, controller_id: str, today: dt.date) -> PolicyTerms:
        with self.sessions() as session:
            return load_terms(session, controller_id, today)

    def subject_state(self, controller_id: str, subject_id: str, compiled: CompiledPolicy) -> SubjectState:
        with self.sessions() as session:
            return subject_state(session, self.keyring, controller_id, subject_id, compiled)

    def cursor(self, controller_id: str) -> Cursor:
        with self.sessions() as session:
            return Cursor(ConsentLedger(session, self.keyring).head_seq(controller_id),
                          last_change_id(session, controller_id), policy_count(session, controller_id))

    def changes(self, controller_id: str, since: Cursor) -> Changes:
        with self.sessions() as session:
            seq, by_consent = ConsentLedger(session, self.keyring).changed_since(controller_id, since.consent_seq)
            change, by_flags = changes_since(session, controller_id, since.subject_change)
            policies = policy_count(session, controller_id)
        return Changes(Cursor(seq, change, policies), frozenset(by_consent | by_flags), policies != since.policies)

    def write_log(self, entries: Sequence[LogEntry]) -> None:
        with transaction(self.sessions) as session:
            write_decision_log(session, entries)
