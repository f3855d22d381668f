"""The in-process decider: decisions from memory, refreshed when consents, subjects or policies change.

Charter's server runs one; a host can embed one too (`charter.sdk.Client.decider()`), so a decision is a
function call rather than a network round trip. It keeps each controller's compiled policy, each subject's state
as it was last loaded, and each answer given until the earliest moment it could change (the consent's end, a
birthday, the next policy version's effective date). It forgets a subject the moment it is told of a change: at
once for changes committed through a watched session factory (`watch`), and within `refresh_every` seconds for
changes made by other processes, which it follows through the ledger's sequence numbers and the subject change
feed. Decisions that allow non-essential processing are queued and written in batches by a background thread.

>>> decider = Decider(SqlDecisionSource(sessions, keyring)).start()
>>> decider.decide("lubpur", subject_id, Question("analytics")).allowed
False
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from charter.decisions.core import CompiledPolicy, Decision, Question, SubjectState, compile_policy, decide, expires
from charter.decisions.core import validate_question as _validate
from charter.decisions.interfaces import Cursor, DecisionSource, LogEntry
from charter.policy.models import PolicyVersionRecord
from charter.subjects.services import CHANGED_SUBJECTS

__all__ = ["Decider"]

_log = logging.getLogger(__name__)
_CHANGED_POLICIES = "charter.changed_policies"


@dataclass
class _Subject:
    state: SubjectState
    policy_hash: str
    memo: dict[Question, tuple[Decision, float, str | None]] = field(default_factory=dict)


class Decider:
    def __init__(self, source: DecisionSource, *, refresh_every: float = 0.5, max_subjects: int = 100_000,
                 clock: Callable[[], float] = time.time) -> None:
        self.source = source
        self.refresh_every = refresh_every
        self.max_subjects = max_subjects
        self._clock = clock
        self._compiled: dict[str, CompiledPolicy] = {}
        self._subjects: dict[str, dict[str, _Subject]] = {}
        self._cursors: dict[str, Cursor] = {}
        self._queue: deque[LogEntry] = deque()
        self._lock = threading.RLock()
        self._epoch = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- deciding --------------------------------------------------------------------------------------------

    def decide(self, controller_id: str, subject_id: str, question: Question) -> Decision:
        """The answer for one subject; raises `CharterError` naming the field for an unknown name, `NotFound`
        for an unknown subject."""
        hit = self.cached(controller_id, subject_id, question)
        return hit if hit is not None else self._decide(controller_id, subject_id, question, self._clock())

    def cached(self, controller_id: str, subject_id: str, question: Question) -> Decision | None:
        """The answer if it is in memory and still current, else None: never touches the source."""
        subjects = self._subjects.get(controller_id)
        if subjects is None:
            return None
        known = subjects.get(subject_id)
        if known is None:
            return None
        hit = known.memo.get(question)
        if hit is None:
            return None
        now = self._clock()
        if now >= hit[1]:
            return None
        if hit[0].is_logged:
            self._queue.append(LogEntry(now, controller_id, subject_id, question, hit[0], hit[2], known.policy_hash))
        return hit[0]

    def decide_many(self, controller_id: str, asks: Iterable[tuple[str, Question]]) -> list[Decision]:
        return [self.decide(controller_id, subject_id, question) for subject_id, question in asks]

    def validate(self, controller_id: str, question: Question) -> None:
        _validate(self.policy(controller_id), question)

    def _decide(self, controller_id: str, subject_id: str, question: Question, now: float) -> Decision:
        compiled = self.policy(controller_id, now)
        _validate(compiled, question)
        known = self._subject(controller_id, subject_id, compiled)
        decision = decide(compiled, known.state, question, now)
        view = known.state.consents.get(question.purpose)
        record = view.record_id if view is not None and decision.basis == "consent" else None
        known.memo[question] = (decision, expires(compiled, known.state, question), record)
        if decision.is_logged:
            self._queue.append(LogEntry(now, controller_id, subject_id, question, decision, record,
                                        compiled.content_hash))
        return decision

    def _subject(self, controller_id: str, subject_id: str, compiled: CompiledPolicy) -> _Subject:
        subjects = self._subjects.setdefault(controller_id, {})
        known = subjects.get(subject_id)
        if known is not None:
            return known
        epoch = self._epoch
        known = _Subject(self.source.subject_state(controller_id, subject_id, compiled), compiled.content_hash)
        with self._lock:
            # Kept only if nothing changed while it loaded: a stale state must never stick.
            if epoch == self._epoch and self._compiled.get(controller_id) is compiled:
                if len(subjects) >= self.max_subjects:
                    for stale in list(subjects)[: self.max_subjects // 10 or 1]:
                        subjects.pop(stale, None)
                subjects[subject_id] = known
        return known

    def state(self, controller_id: str, subject_id: str) -> SubjectState:
        return self._subject(controller_id, subject_id, self.policy(controller_id)).state

    def policy(self, controller_id: str, now: float | None = None) -> CompiledPolicy:
        """The controller's compiled policy, recompiled when a new version takes effect."""
        moment = self._clock() if now is None else now
        compiled = self._compiled.get(controller_id)
        if compiled is not None and moment < compiled.valid_until:
            return compiled
        with self._lock:
            epoch = self._epoch
            cursor = self._cursors.get(controller_id) or self.source.cursor(controller_id)
            today = dt.datetime.fromtimestamp(moment, dt.UTC).date()
            compiled = compile_policy(controller_id, self.source.terms(controller_id, today))
            if epoch == self._epoch:
                self._cursors[controller_id] = cursor
                self._compiled[controller_id] = compiled
                self._subjects[controller_id] = {}
            return compiled

    # --- staying fresh ---------------------------------------------------------------------------------------

    def invalidate(self, controller_id: str, subject_id: str | None = None) -> None:
        """Forget one subject (or, without one, the controller's policy and every subject)."""
        with self._lock:
            self._epoch += 1
            if subject_id is None:
                self._compiled.pop(controller_id, None)
                self._subjects.pop(controller_id, None)
            else:
                self._subjects.get(controller_id, {}).pop(subject_id, None)

    def refresh(self) -> None:
        """Follow each known controller's changes made by other processes."""
        for controller_id, cursor in list(self._cursors.items()):
            changes = self.source.changes(controller_id, cursor)
            if changes.policy_changed:
                self.invalidate(controller_id)
            for subject_id in changes.subjects:
                self.invalidate(controller_id, subject_id)
            with self._lock:
                if controller_id in self._cursors:
                    self._cursors[controller_id] = changes.cursor

    def watch(self, sessions: sessionmaker[Session]) -> None:
        """Be told at commit of every change made through `sessions`: subjects marked changed by the services,
        and policy versions published."""
        event.listen(sessions, "after_flush", _note_policies)
        event.listen(sessions, "after_commit", self._after_commit)
        event.listen(sessions, "after_rollback", _forget_notes)

    def _after_commit(self, session: Session) -> None:
        for controller_id in session.info.pop(_CHANGED_POLICIES, set()):
            self.invalidate(controller_id)
        for controller_id, subject_id in session.info.pop(CHANGED_SUBJECTS, set()):
            self.invalidate(controller_id, subject_id)

    # --- the decision log ------------------------------------------------------------------------------------

    def pending(self) -> int:
        return len(self._queue)

    def flush(self) -> int:
        """Write every queued decision to the log; returns how many were written."""
        batch: list[LogEntry] = []
        while self._queue and len(batch) < 50_000:
            batch.append(self._queue.popleft())
        if batch:
            self.source.write_log(batch)
        return len(batch)

    def start(self) -> Decider:
        """Refresh and flush in a background thread until `close()`."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="charter-decider", daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.refresh_every):
            try:
                self.refresh()
                while self.flush():
                    pass
            except Exception:  # a database hiccup must not kill the thread; the next round retries
                _log.exception("decider refresh or log flush failed")

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        while self.flush():
            pass


def _note_policies(session: Session, _context: Any) -> None:
    published = {obj.controller_id for obj in session.new if isinstance(obj, PolicyVersionRecord)}
    if published:
        session.info.setdefault(_CHANGED_POLICIES, set()).update(published)


def _forget_notes(session: Session) -> None:
    session.info.pop(_CHANGED_POLICIES, None)
    session.info.pop(CHANGED_SUBJECTS, None)

