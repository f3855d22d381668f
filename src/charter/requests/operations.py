"""What each task does outside Charter's database: read, erase or correct one collection through its connector,
or tell the host to stop a cancelled account's login. Each function takes a `TaskContext` (plain values loaded
before it runs) and returns an `Outcome`; none holds a transaction open while it talks to a store.

Every operation is idempotent — the connectors' erasure strategies are fixed points, corrections are limited to
rows that differ, the host webhook carries an idempotency key — so a task re-run after a crash does no harm.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

from charter.connectors.base import ConnectorError, HeldField, ManualAction, Row
from charter.connectors.webhook import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, sign
from charter.datamap.connections import ConnectorPool
from charter.datamap.plan import TaskSpec, resolve_lookup
from charter.requests.planning import Operation, corrected_value

__all__ = ["EXTERNAL", "Outcome", "TaskContext", "jsonable"]


@dataclass(frozen=True)
class TaskContext:
    task_id: int
    request_id: str
    controller_id: str
    subject_id: str | None
    operation: Operation
    spec: Mapping[str, Any]
    params: Mapping[str, Any]
    identities: Mapping[str, tuple[str, ...]]
    found: Mapping[str, tuple[Row, ...]]
    """Collection key → rows (or saved keys) earlier retrieve tasks of the request found."""
    login_webhook: tuple[str, bytes] | None = None
    task: TaskSpec | None = None
    """`spec["task"]` already parsed, when the worker has it from planning."""


@dataclass
class Outcome:
    record: dict[str, Any] = field(default_factory=dict)
    """What was done: counts, field names, strategies. Never personal data."""
    result: list[Row] | None = None
    """Rows (or keys) to keep, encrypted, for the bundle and later lookups."""
    held: tuple[HeldField, ...] = ()
    manual: ManualAction | None = None


def jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bytes):
        return value.hex()
    return value


def _task(ctx: TaskContext) -> TaskSpec:
    return ctx.task if ctx.task is not None else TaskSpec.model_validate(ctx.spec["task"])


def retrieve(ctx: TaskContext, pool: ConnectorPool) -> Outcome:
    task = _task(ctx)
    lookup = resolve_lookup(task, ctx.identities, ctx.found)
    got = pool.get(task.connection).retrieve(task.collection, lookup)
    if got.manual is not None:
        return Outcome(record={"manual": True}, result=[], manual=got.manual)
    rows = [{k: jsonable(v) for k, v in row.items()} for row in got.rows]
    if ctx.spec.get("keep") != "rows":
        keys = ctx.spec.get("keys", [])
        rows = [{k: row.get(k) for k in keys} for row in rows]
    return Outcome(record={"rows": len(got.rows)}, result=rows)


def erase(ctx: TaskContext, pool: ConnectorPool) -> Outcome:
    task = _task(ctx)
    lookup = resolve_lookup(task, ctx.identities, ctx.found)
    done = pool.get(task.connection).erase(task.collection, lookup)
    had_rows = bool(ctx.found.get(task.key)) or done.manual is not None
    record = {"rows_deleted": done.rows_deleted, "rows_changed": done.rows_changed,
              "fields": {name: strategy.value for name, strategy in done.fields.items()}}
    return Outcome(record=record, held=done.held if had_rows else (), manual=done.manual)


def rectify(ctx: TaskContext, pool: ConnectorPool) -> Outcome:
    task = _task(ctx)
    name = str(ctx.spec["field"])
    lookup = resolve_lookup(task, ctx.identities, ctx.found)
    value = corrected_value(task.collection.field(name), ctx.params.get("value"))
    done = pool.get(task.connection).rectify(task.collection, lookup, name, value)
    return Outcome(record={"field": name, "rows_changed": done.rows_changed}, manual=done.manual)


def disable_login(ctx: TaskContext, pool: ConnectorPool) -> Outcome:
    """POST `{"event": "account.cancelled", "subject_id", "request_id"}` to the host's login webhook, signed like
    the webhook connector's calls. Without a webhook the host learns it from GET /v1/account-closures."""
    if ctx.login_webhook is None:
        return Outcome(record={"webhook": False})
    url, key = ctx.login_webhook
    body = json.dumps({"event": "account.cancelled", "subject_id": ctx.subject_id, "request_id": ctx.request_id},
                      separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(key, int(dt.datetime.now(dt.UTC)
                                                                                    .timestamp()), body),
               IDEMPOTENCY_HEADER: f"{ctx.request_id}:disable_login"}
    try:
        answer = httpx.post(url, content=body, headers=headers, timeout=10)
    except httpx.HTTPError as exc:
        raise ConnectorError(f"the host's login webhook could not be reached ({type(exc).__name__})",
                             fix="Check the webhook URL in the request settings and that the host is up.") from None
    if answer.status_code >= 300:
        raise ConnectorError(f"the host's login webhook answered {answer.status_code}",
                             fix="The host must answer 2xx once the account's login is disabled.")
    return Outcome(record={"webhook": True, "status": answer.status_code})


EXTERNAL: dict[Operation, Callable[[TaskContext, ConnectorPool], Outcome]] = {
    Operation.RETRIEVE: retrieve,
    Operation.ERASE: erase,
    Operation.RECTIFY: rectify,
    Operation.DISABLE_LOGIN: disable_login,
}
"""Operations that talk to a store or the host; the others change only Charter's own database."""
