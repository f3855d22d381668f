"""What the request services need from the outside: somewhere to hand task ids to once a transaction commits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from sqlalchemy.orm import Session

from charter.datamap.plan import TaskSpec

__all__ = ["ClaimingQueue", "FirstClaim", "NullQueue", "Planned", "PlannedTask", "TaskQueue"]


@dataclass(frozen=True)
class FirstClaim:
    """How the planning transaction writes a request's first tasks: the first `count` already claimed (running,
    first attempt, leased until `lease_until`), so that no claim of their own follows."""

    count: int
    now: dt.datetime
    lease_until: dt.datetime


@dataclass(frozen=True)
class PlannedTask:
    """A task as the transaction that plans it writes it."""

    id: int
    position: int
    operation: str
    collection: str | None
    spec: Mapping[str, Any]
    task: TaskSpec | None = None
    """The plan's own task the spec holds, already parsed (store tasks)."""


@dataclass(frozen=True)
class Planned:
    """What the planning transaction already holds about a request's new tasks, so claiming its first batch in
    that transaction reads nothing back."""

    tasks: tuple[PlannedTask, ...]
    claimed: int
    """How many of the first tasks were written claimed (`FirstClaim.count`)."""
    held: bool
    """Whether planning recorded held items (a legal hold keeps some of the data)."""
    identities: Mapping[str, tuple[str, ...]]
    """The subject's identities (kind → values), as planning loaded them."""
    params: Mapping[str, Any]


class TaskQueue(Protocol):
    def enqueue(self, task_ids: Sequence[int]) -> None:
        """Run these persisted tasks soon. Called only after the transaction that wrote them committed."""


@runtime_checkable
class ClaimingQueue(Protocol):
    """A queue that runs tasks in this process can claim a request's first batch in the transaction that plans
    it, and start on it the moment that transaction commits: no claim of its own, no wait."""

    def enqueue(self, task_ids: Sequence[int]) -> None: ...

    def first_claim(self, operations: Sequence[str]) -> FirstClaim | None:
        """Before a request's tasks (these operations, in order) are written: how many of the first to write
        claimed, for this queue to start on the moment the transaction commits (None: none, enqueue as usual)."""

    def claimed(self, session: Session, request: Any, planned: Planned) -> object:
        """In the caller's transaction, which is about to write `planned`'s tasks as `first_claim` said (their ids
        standing in as -1 - position until `bind_claimed`): the batch to hand to `start_claimed` once it commits.
        A batch that only reads may start at once."""

    def bind_claimed(self, claimed: object, ids: Sequence[int]) -> None:
        """The tasks are written: their ids, in position order, replace the ones standing in for them."""

    def start_claimed(self, claimed: object) -> None:
        """After the caller's transaction committed: run what `claimed` returned (or, if it started already, let
        it settle)."""

    def abandon_claimed(self, claimed: object) -> None:
        """After the caller's transaction rolled back: drop what `claimed` returned, if it started already."""

    def settle_here(self, session: Session, claimed: object) -> object | None:
        """At the end of the caller's unit of work, still in its transaction: if what `claimed` returned started
        at once and finishes within a short wait, record what it did here, so no transaction of its own follows.
        Returns the next batch this claimed, for `start_claimed` once the transaction commits, or
        `abandon_claimed` if it rolls back (None: nothing to start, or the worker settles it after the commit as
        usual); it may have started already, if nothing it changes becomes visible before the commit."""


class NullQueue:
    """Enqueues nothing: the sweeper (or a test) picks the tasks up from the database."""

    def enqueue(self, task_ids: Sequence[int]) -> None:
        return None
