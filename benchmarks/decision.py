"""In-process decision latency: `Decider.decide` in steady state (the host asks the same questions about the same
people again and again) against the floor, a bare function doing one dictionary lookup on the same input. Both
run on one core, in the same process, timed the same way. The pure `decide()` without the decider's memory is
reported too, for scale."""

from __future__ import annotations

import datetime as dt
import gc
import os
import random
import statistics
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import yaml

from benchmarks import Row, benchmark
from charter.consent.terms import PolicyTerms, policy_terms
from charter.decisions.core import CompiledPolicy, ConsentView, Decision, Question, SubjectState, decide
from charter.decisions.decider import Decider
from charter.decisions.interfaces import Changes, Cursor, LogEntry
from charter.policy.hashing import content_hash
from charter.policy.schema import PolicyVersion

LUBPUR = Path(__file__).resolve().parents[1] / "examples" / "lubpur" / "policy.yaml"
QUESTIONS = (
    Question("analytics"), Question("marketing_email", channel="email"), Question("service"),
    Question("share_partners", kind="share", recipient="example-ad-analytics-partner"), Question("personalisation"),
)


class MemorySource:
    """Subjects held in memory: the benchmark measures deciding, not loading."""

    def __init__(self, terms: PolicyTerms, states: dict[str, SubjectState]) -> None:
        self._terms, self.states = terms, states

    def terms(self, controller_id: str, today: dt.date) -> PolicyTerms:
        return self._terms

    def subject_state(self, controller_id: str, subject_id: str, compiled: CompiledPolicy) -> SubjectState:
        return self.states[subject_id]

    def cursor(self, controller_id: str) -> Cursor:
        return Cursor(0, 0, 1)

    def changes(self, controller_id: str, since: Cursor) -> Changes:
        return Changes(since, frozenset(), False)

    def write_log(self, entries: Sequence[LogEntry]) -> None:
        return None


def _people(terms: PolicyTerms, count: int) -> dict[str, SubjectState]:
    rng = random.Random(7)
    out = {}
    for _ in range(count):
        sid = str(uuid.uuid4())
        consents = {p: ConsentView("granted" if rng.random() < 0.6 else "refused",
                                   "separate" if p.startswith("share") else "general", 0, None,
                                   str(uuid.uuid4()), False)
                    for p in ("analytics", "marketing_email", "personalisation", "share_partners", "email_tracking")}
        out[sid] = SubjectState(sid, consents)
    return out


def _median_ns(call: Callable[[str, Question], object], asks: Sequence[tuple[str, Question]]) -> float:
    clock = time.perf_counter_ns
    samples = []
    for subject_id, question in asks:
        start = clock()
        call(subject_id, question)
        samples.append(clock() - start)
    return statistics.median(samples)


def _rate(call: Callable[[str, Question], object], asks: Sequence[tuple[str, Question]]) -> float:
    start = time.perf_counter()
    for subject_id, question in asks:
        call(subject_id, question)
    return len(asks) / (time.perf_counter() - start)


@benchmark("decision", "in-process decision vs one dictionary lookup, one core")
def run(quick: bool) -> list[Row]:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    policy = PolicyVersion.model_validate(yaml.safe_load(LUBPUR.read_text(encoding="utf-8")))
    terms = policy_terms([(policy, content_hash(policy))], dt.date.today())
    people = _people(terms, 1000)
    decider = Decider(MemorySource(terms, people))
    asks = [(s, q) for s in people for q in QUESTIONS]
    random.Random(1).shuffle(asks)
    answers: dict[tuple[str, Question], Decision] = {}
    for subject_id, question in asks:  # warm: every subject known, every answer in memory
        answers[subject_id, question] = decider.decide("lubpur", subject_id, question)
    decider.flush()

    def floor(subject_id: str, question: Question) -> Decision:
        return answers[subject_id, question]

    def bound(subject_id: str, question: Question) -> Decision:
        return decider.decide("lubpur", subject_id, question)

    compiled = decider.policy("lubpur")
    now = time.time()

    def pure(subject_id: str, question: Question) -> Decision:
        return decide(compiled, people[subject_id], question, now)

    timed = asks * (10 if quick else 40)
    gc.disable()
    try:
        floor_median, decide_median = _median_ns(floor, timed), _median_ns(bound, timed)
        decider.flush()
        floor_rate, decide_rate = _rate(floor, timed), _rate(bound, timed)
        decider.flush()
        pure_median = _median_ns(pure, asks)
    finally:
        gc.enable()
    ratio = decide_median / floor_median
    return [
        Row("decision", "median latency (Decider.decide)", decide_median / 1000, "µs", floor_median / 1000,
            "dict lookup", "≤ 5 µs and ≤ 10× floor", decide_median <= 5000 and ratio <= 10),
        Row("decision", "decisions/s, one core", decide_rate, "/s", floor_rate, "dict lookup"),
        Row("decision", "median latency, pure decide() (no memory)", pure_median / 1000, "µs", floor_median / 1000,
            "dict lookup"),
    ]
