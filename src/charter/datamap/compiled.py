"""Published data maps, compiled once per process: parsed, with their planner and the plans made with them.

A published version never changes, so its content hash names everything derived from it. The request path reads a
version's id, label and hash (three short columns), and the document itself only the first time this process
meets that content.

```python
found = compiled(session, "lubpur")            # the current version; compiled(session, cid, "3") for one by label
plan = found.plan({"email", "phone"})          # remembered per set of identity kinds
spec = found.spec(plan.access[0], {"keep": "keys"})  # a task row's spec, its JSON text remembered too
rule = found.datamap.retention_rule("tax")
```
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from charter.core.db import JsonText
from charter.core.errors import NotFound
from charter.datamap.models import DataMapVersionRecord
from charter.datamap.plan import Plan, Planner, TaskSpec
from charter.datamap.schema import DataMap

__all__ = ["Compiled", "compiled"]

_SIZE = 64


@dataclass(frozen=True)
class Compiled:
    version: str
    content_hash: str
    datamap: DataMap
    planner: Planner
    _plans: dict[tuple[str, ...], Plan] = field(default_factory=dict, repr=False, compare=False)
    _specs: dict[tuple[int, str], tuple[TaskSpec, JsonText]] = field(default_factory=dict, repr=False,
                                                                     compare=False)

    def plan(self, identity_kinds: Iterable[str]) -> Plan:
        """`Planner.plan`, remembered per set of identity kinds (a plan is a pure function of the two)."""
        key = tuple(sorted(set(identity_kinds)))
        found = self._plans.get(key)
        if found is None:
            found = self._plans[key] = self.planner.plan(key)
        return found

    def spec(self, task: TaskSpec, extra: Mapping[str, Any]) -> dict[str, Any]:
        """A task row's spec, `{"task": task.model_dump(mode="json"), **extra}`, for a task of one of this
        version's remembered plans (kept as long as the plan, so the task's id names it) and `extra` drawn from
        the plan too: made once, its JSON text encoded once (`JsonText`). Shared: read it, never change it."""
        key = (id(task), json.dumps(extra, sort_keys=True))
        held = self._specs.get(key)
        if held is None or held[0] is not task:
            held = self._specs[key] = (task, JsonText({"task": task.model_dump(mode="json"), **extra}))
        return held[1]


_Entry = tuple[DataMap, Planner, dict[tuple[str, ...], Plan], dict[tuple[int, str], tuple[TaskSpec, JsonText]]]
_CACHE: OrderedDict[str, _Entry] = OrderedDict()
_LOCK = threading.Lock()


_VERSIONS = select(DataMapVersionRecord.id, DataMapVersionRecord.version, DataMapVersionRecord.content_hash).where(
    DataMapVersionRecord.controller_id == bindparam("cid"))
_LATEST = _VERSIONS.order_by(DataMapVersionRecord.id.desc()).limit(1)
_LABELLED = _VERSIONS.where(DataMapVersionRecord.version == bindparam("version"))


def compiled(session: Session, controller_id: str, version: str | None = None) -> Compiled:
    """The version labelled `version`, or else the most recently published one (what new requests are planned
    with), compiled. A controller without one raises `NotFound`."""
    row = session.execute(_LATEST, {"cid": controller_id}).first() if version is None else \
        session.execute(_LABELLED, {"cid": controller_id, "version": version}).first()
    if row is None:
        if version is not None:
            raise NotFound(f"no published data map version {version!r}",
                           fix="List versions with GET /v1/datamaps or `charter datamap list`.")
        raise NotFound(f"controller {controller_id!r} has no published data map",
                       fix="Publish one with `charter datamap publish FILE --controller ID`.")
    record_id, label, digest = row
    with _LOCK:
        found = _CACHE.get(digest)
        if found is not None:
            _CACHE.move_to_end(digest)
    if found is None:
        document = session.execute(select(DataMapVersionRecord.document)
                                   .where(DataMapVersionRecord.id == record_id)).scalar_one()
        datamap = DataMap.model_validate(document)
        found = (datamap, Planner(datamap), {}, {})
        with _LOCK:
            found = _CACHE.setdefault(digest, found)
            while len(_CACHE) > _SIZE:
                _CACHE.popitem(last=False)
    return Compiled(label, digest, *found)
