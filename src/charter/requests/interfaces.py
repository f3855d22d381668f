"""What the request services need from the outside: somewhere to hand task ids to once a transaction commits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

__all__ = ["NullQueue", "TaskQueue"]


class TaskQueue(Protocol):
    def enqueue(self, task_ids: Sequence[int]) -> None:
        """Run these persisted tasks soon. Called only after the transaction that wrote them committed."""


class NullQueue:
    """Enqueues nothing: the sweeper (or a test) picks the tasks up from the database."""

    def enqueue(self, task_ids: Sequence[int]) -> None:
        return None
