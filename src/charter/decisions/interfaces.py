"""Where an in-process decider gets what it knows: Charter's own database (`SqlDecisionSource`) or, in a host
that embeds the decider, Charter's HTTP API (`charter.sdk.HttpDecisionSource`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import NamedTuple, Protocol

from charter.consent.terms import PolicyTerms
from charter.decisions.core import CompiledPolicy, Decision, Question, SubjectState


class Cursor(NamedTuple):
    """How far a decider has followed one controller's changes."""

    consent_seq: int
    subject_change: int
    policies: int
    """How many policy versions were published (a new one means recompiling)."""


class Changes(NamedTuple):
    cursor: Cursor
    subjects: frozenset[str]
    policy_changed: bool


class LogEntry(NamedTuple):
    """One allowed decision to log; identical entries are merged into one row with a count."""

    at: float
    controller_id: str
    subject_id: str
    question: Question
    decision: Decision
    consent_record_id: str | None
    policy_hash: str


class DecisionSource(Protocol):
    def terms(self, controller_id: str, today: dt.date) -> PolicyTerms: ...

    def subject_state(self, controller_id: str, subject_id: str, compiled: CompiledPolicy) -> SubjectState:
        """The subject's state; `NotFound` (field `subject_id`) for a subject of no or another controller."""
        ...

    def cursor(self, controller_id: str) -> Cursor: ...

    def changes(self, controller_id: str, since: Cursor) -> Changes: ...

    def write_log(self, entries: Sequence[LogEntry]) -> None: ...
