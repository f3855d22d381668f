"""The life of a data-subject request as a pure state machine: which status may follow which, and what each
step needs. No I/O: `RequestService` asks it before every change.

```
received ──verify──► identity_verified ──approve──► approved ──plan──► planned ──start──► executing
   │                        │                                                          │
   └──────refuse──────► refused ◄──refuse──┘                     completed | completed_with_held_items | failed
```

`failed` can be retried (back to `executing`); `refused`, `completed` and `completed_with_held_items` are final.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from charter.core.errors import Conflict

__all__ = ["FINAL", "Event", "Status", "Transition", "advance", "can", "transition"]


class Status(StrEnum):
    RECEIVED = "received"
    IDENTITY_VERIFIED = "identity_verified"
    APPROVED = "approved"
    REFUSED = "refused"
    PLANNED = "planned"
    EXECUTING = "executing"
    COMPLETED = "completed"
    COMPLETED_WITH_HELD_ITEMS = "completed_with_held_items"
    FAILED = "failed"

    @property
    def is_final(self) -> bool:
        return self in FINAL

    @property
    def is_done(self) -> bool:
        """Answered: refused, or carried out (with or without held items)."""
        return self in (Status.REFUSED, Status.COMPLETED, Status.COMPLETED_WITH_HELD_ITEMS)


FINAL = frozenset({Status.REFUSED, Status.COMPLETED, Status.COMPLETED_WITH_HELD_ITEMS})


class Event(StrEnum):
    VERIFY = "verify"
    APPROVE = "approve"
    REFUSE = "refuse"
    PLAN = "plan"
    START = "start"
    COMPLETE = "complete"
    COMPLETE_WITH_HELD_ITEMS = "complete_with_held_items"
    FAIL = "fail"
    RETRY = "retry"


@dataclass(frozen=True)
class Transition:
    event: Event
    source: frozenset[Status]
    target: Status
    needs: str
    """What the step needs, in words (shown when it is refused)."""


def _t(event: Event, sources: set[Status], target: Status, needs: str) -> Transition:
    return Transition(event, frozenset(sources), target, needs)


TRANSITIONS: dict[Event, Transition] = {t.event: t for t in (
    _t(Event.VERIFY, {Status.RECEIVED}, Status.IDENTITY_VERIFIED,
       "a correct, unexpired code or a valid host assertion"),
    _t(Event.APPROVE, {Status.IDENTITY_VERIFIED}, Status.APPROVED,
       "a verified identity (and a staff member, when the controller requires approval)"),
    _t(Event.REFUSE, {Status.RECEIVED, Status.IDENTITY_VERIFIED, Status.APPROVED}, Status.REFUSED,
       "one of the refusal grounds the policy's jurisdictions allow and the policy lists"),
    _t(Event.PLAN, {Status.APPROVED}, Status.PLANNED, "an approved request and a published data map"),
    _t(Event.START, {Status.PLANNED}, Status.EXECUTING, "a planned request with its tasks persisted"),
    _t(Event.COMPLETE, {Status.EXECUTING}, Status.COMPLETED, "every task done, nothing held"),
    _t(Event.COMPLETE_WITH_HELD_ITEMS, {Status.EXECUTING}, Status.COMPLETED_WITH_HELD_ITEMS,
       "every task done, some items held by a retention lock or legal hold"),
    _t(Event.FAIL, {Status.APPROVED, Status.PLANNED, Status.EXECUTING}, Status.FAILED,
       "a task that could not be carried out"),
    _t(Event.RETRY, {Status.FAILED}, Status.EXECUTING, "a failed request whose cause was put right"),
)}


def can(status: Status | str, event: Event) -> bool:
    return Status(status) in TRANSITIONS[event].source


def transition(status: Status | str, event: Event) -> Status:
    """The status after `event`, or a `Conflict` saying why the step cannot be taken now."""
    current = Status(status)
    step = TRANSITIONS[event]
    if current not in step.source:
        allowed = ", ".join(sorted(s.value for s in step.source))
        raise Conflict(f"a request that is {current.value} cannot be {_past(event)}", field="status",
                       fix=f"This step needs {step.needs}; it applies to a request that is {allowed}.")
    return step.target


def advance(status: Status | str, *, needs_approval: bool) -> Status:
    """Where a verified request goes by itself: approved at once unless the controller requires staff approval."""
    current = Status(status)
    if current is Status.IDENTITY_VERIFIED and not needs_approval:
        return transition(current, Event.APPROVE)
    return current


def _past(event: Event) -> str:
    return {Event.VERIFY: "verified", Event.APPROVE: "approved", Event.REFUSE: "refused", Event.PLAN: "planned",
            Event.START: "started", Event.COMPLETE: "completed", Event.COMPLETE_WITH_HELD_ITEMS: "completed",
            Event.FAIL: "failed", Event.RETRY: "retried"}[event]
