"""What the request services need from the outside: somewhere to hand task ids to once a transaction commits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from sqlalchemy.orm import Session

__all__ = ["ClaimingQueue", "NullQueue", "TaskQueue"]


class TaskQueue(Protocol):
    def enqueue(self, task_ids: Sequence[int]) -> None:
        """Run these persisted tasks soon. Called only after the transaction that wrote them committed."""


@runtime_checkable
class ClaimingQueue(Protocol):
    """A queue that runs tasks in this process can claim a request's first batch in the transaction that plans
    it, and start on it the moment that transaction commits: no claim of its own, no wait."""

    def enqueue(self, task_ids: Sequence[int]) -> None: ...

    def claim_first(self, session: Session, request: Any) -> object | None:
        """In the caller's transaction: claim the request's first batch of store tasks (None: nothing claimed,
        enqueue as usual)."""

    def start_claimed(self, claimed: object) -> None:
        """After the caller's transaction committed: run what `claim_first` claimed."""


class NullQueue:
    """Enqueues nothing: the sweeper (or a test) picks the tasks up from the database."""

    def enqueue(self, task_ids: Sequence[int]) -> None:
        return None
