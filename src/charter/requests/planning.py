"""From a request's kind and the data map's plan to the ordered list of tasks the runner persists. Pure.

Every kind that changes stored data reads first (the access pass keeps the keys later lookups need, as
`charter.datamap.plan` requires), then changes, then tells recipients. Kinds that touch no store (restriction,
withdrawal, explanation) are a single task.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from charter.connectors.base import FieldSpec, StoreKind
from charter.core.errors import CharterError
from charter.datamap.plan import Plan, TaskSpec
from charter.jurisdictions import RequestKind
from charter.subjects.normalise import normalise, parse_kind

__all__ = ["NEEDS_DATAMAP", "Operation", "TaskDraft", "corrected_value", "draft_tasks"]


class Operation(StrEnum):
    RETRIEVE = "retrieve"
    """Read the person's rows: kept whole for access and portability, only the keys later lookups need else."""
    ERASE = "erase"
    RECTIFY = "rectify"
    NOTIFY_RECIPIENTS = "notify_recipients"
    DISABLE_LOGIN = "disable_login"
    RESTRICT = "restrict"
    WITHDRAW = "withdraw"
    TOMBSTONE_CONSENT = "tombstone_consent"
    EXPLAIN = "explain"
    CORRECT_IDENTITY = "correct_identity"
    """A rectified identity (a phone number) replaces the old one in Charter's own directory too."""


NEEDS_DATAMAP = frozenset({RequestKind.ACCESS, RequestKind.PORTABILITY, RequestKind.RECTIFICATION,
                           RequestKind.ERASURE, RequestKind.CANCELLATION})


@dataclass(frozen=True)
class TaskDraft:
    operation: Operation
    collection: str | None = None
    spec: dict[str, Any] = field(default_factory=dict)
    task: TaskSpec | None = field(default=None, compare=False, repr=False)
    """The plan's task `spec["task"]` was dumped from, so a worker in this process need not parse it back."""


Dump = Callable[[TaskSpec, dict[str, Any]], dict[str, Any]]
"""A store task's spec: `{"task": <the plan's task as JSON>, **extra}` (`dump`, or a remembered copy of it,
`charter.datamap.compiled.Compiled.spec`)."""


def dump(task: TaskSpec, extra: dict[str, Any]) -> dict[str, Any]:
    return {"task": task.model_dump(mode="json"), **extra}


def _collection_task(operation: Operation, task: TaskSpec, dumped: Dump, **extra: Any) -> TaskDraft:
    return TaskDraft(operation, task.key, dumped(task, extra), task)


def _retrieve(plan: Plan, dumped: Dump, *, keep_rows: bool) -> list[TaskDraft]:
    """The access pass. When only keys are kept, a manual store is skipped: staff cannot hand keys back, and its
    own erasure or correction becomes a task for them anyway."""
    return [_collection_task(Operation.RETRIEVE, t, dumped, keep="rows" if keep_rows else "keys",
                             keys=list(plan.keys_needed.get(t.key, ()))) for t in plan.access
            if keep_rows or t.connection.kind is not StoreKind.MANUAL]


def _rectify(plan: Plan, params: dict[str, Any], dumped: Dump) -> list[TaskDraft]:
    category = str(params.get("category", ""))
    holding = plan.holding(category)
    if not holding:
        raise CharterError(f"no store in the data map holds category {category!r} for this person", field="category",
                           fix="Name a data category the data map lists on a field (e.g. contact.phone).")
    for task, name in holding:
        corrected_value(task.collection.field(name), params.get("value"))  # refused before anything changes
    kinds = dict.fromkeys(k for task, name in holding if (k := task.collection.field(name).identity) is not None)
    return [*(_collection_task(Operation.RECTIFY, task, dumped, field=name) for task, name in holding),
            *(TaskDraft(Operation.CORRECT_IDENTITY, spec={"kind": kind}) for kind in kinds)]


def corrected_value(field: FieldSpec, value: Any) -> Any:
    """The value a rectification writes to `field`: normalised as Charter normalises identities when the field
    holds one (an unnormalised phone number in an identity column would no longer find the person)."""
    if field.identity is None or value is None:
        return value
    try:
        return normalise(parse_kind(field.identity), str(value))
    except CharterError as exc:
        raise CharterError(f"the corrected value is not a valid {field.identity}: {exc.message}",
                           field="params.value", fix=exc.fix) from None


def draft_tasks(kind: RequestKind, plan: Plan | None, params: dict[str, Any], dumped: Dump = dump) -> list[TaskDraft]:
    """The tasks of a request, in the order they must run. `dumped` turns the plan's tasks into their specs
    (`charter.datamap.compiled.Compiled.spec` remembers them)."""
    if kind in NEEDS_DATAMAP and plan is None:
        raise CharterError("the controller has no published data map to carry the request out with",
                           fix="Publish one with `charter datamap publish`.")
    if kind in (RequestKind.ACCESS, RequestKind.PORTABILITY):
        assert plan is not None  # noqa: S101 - checked above
        return _retrieve(plan, dumped, keep_rows=True)
    if kind is RequestKind.RECTIFICATION:
        assert plan is not None  # noqa: S101
        return [*_retrieve(plan, dumped, keep_rows=False), *_rectify(plan, params, dumped),
                TaskDraft(Operation.NOTIFY_RECIPIENTS, spec={"action": "rectification"})]
    if kind in (RequestKind.ERASURE, RequestKind.CANCELLATION):
        assert plan is not None  # noqa: S101
        return _erasure(kind, plan, dumped)
    single = {RequestKind.RESTRICTION: Operation.RESTRICT, RequestKind.WITHDRAWAL: Operation.WITHDRAW,
              RequestKind.EXPLANATION: Operation.EXPLAIN}
    return [TaskDraft(single[kind], spec=dict(params))]


def _erasure(kind: RequestKind, plan: Plan, dumped: Dump) -> list[TaskDraft]:
    drafts: list[TaskDraft] = []
    if kind is RequestKind.CANCELLATION:
        # The host stops the login before anything is erased, so the account cannot be used half-erased.
        drafts.append(TaskDraft(Operation.DISABLE_LOGIN))
    drafts += _retrieve(plan, dumped, keep_rows=False)
    drafts += [_collection_task(Operation.ERASE, t, dumped) for t in plan.erasure]
    drafts.append(TaskDraft(Operation.NOTIFY_RECIPIENTS, spec={"action": "erasure"}))
    drafts.append(TaskDraft(Operation.TOMBSTONE_CONSENT))
    if kind is RequestKind.CANCELLATION:
        # What a retention rule keeps is restricted: stored and secured, used for nothing else (PIPL art. 47).
        drafts.append(TaskDraft(Operation.RESTRICT, spec={"reason": "account_cancelled", "only_if_held": True}))
    return drafts
