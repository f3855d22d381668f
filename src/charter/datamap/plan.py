"""The plan of a request: which collections to read and erase for a person, in what order, and how each finds the
person's rows. A pure function of the data map and the kinds of identity the person is known by.

```python
planner = Planner(datamap)                      # build once per data map version
plan = planner.plan({"email", "phone"})         # the subject's identity kinds (linked ones included)
for task in plan.access:                        # parents before the collections found from them
    lookup = resolve_lookup(task, identities, rows_so_far)
    rows_so_far[task.key] = connector.retrieve(task.collection, lookup).rows
for task in plan.erasure:                       # children before the collections they point at
    connector.erase(task.collection, resolve_lookup(task, identities, saved_keys))
```

Erasure lookups read values found by the access pass, never a fresh read: once a parent is erased (say its email
nulled), its children could not be found again. Before erasing, run every access task and keep, from each
collection's rows, the fields `plan.keys_needed[key]` lists; a crash after that can resume from the saved keys.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from charter.connectors.base import CollectionSpec, ConnectionSpec, Lookup, Scalar
from charter.connectors.transforms import as_scalar
from charter.datamap.graph import Edge, Graph, build_graph
from charter.datamap.schema import DataMap
from charter.datamap.specs import collection_spec, connection_spec
from charter.subjects.normalise import parse_kind

__all__ = ["Action", "LookupSource", "Plan", "Planner", "TaskSpec", "plan_request", "resolve_lookup"]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Action(StrEnum):
    ACCESS = "access"
    ERASURE = "erasure"


class LookupSource(_Spec):
    """Where the values for one lookup field come from: the person's identities of a kind, or a field of the rows
    found in another collection."""

    field: str
    identity: str | None = None
    collection: str | None = None
    source_field: str | None = None


class TaskSpec(_Spec):
    """One collection to read or erase: everything a runner needs, serialisable with `model_dump(mode="json")`."""

    key: str
    """`dataset.collection`, unique in the plan."""
    action: Action
    step: int
    """Position in its pass, from 0: a task's lookup sources always come from earlier access steps."""
    system: str
    connection: ConnectionSpec
    collection: CollectionSpec
    lookups: tuple[LookupSource, ...]

    @property
    def depends_on(self) -> tuple[str, ...]:
        """The collections whose rows this task's lookup reads."""
        return tuple(dict.fromkeys(s.collection for s in self.lookups if s.collection is not None))


class Plan(_Spec):
    identity_kinds: tuple[str, ...]
    access: tuple[TaskSpec, ...]
    """Every collection reachable from the identities, each after the collections its lookup reads."""
    erasure: tuple[TaskSpec, ...]
    """The collections erasure changes, children (holders of a reference) before the collections they point at."""
    keys_needed: Mapping[str, tuple[str, ...]]
    """Collection key → the fields of its rows that later lookups read; keep these from the access pass."""
    unreachable: tuple[str, ...]
    """Collections none of the person's identity kinds leads to: nothing of theirs can be found there."""

    def holding(self, category: str) -> tuple[tuple[TaskSpec, str], ...]:
        """(access task, field) for every field holding `category`: where a rectification must be propagated."""
        return tuple((task, f.name) for task in self.access for f in task.collection.fields
                     if category in f.categories)


class Planner:
    """The plans of one data map. Building the graph is done once; planning is then cheap and pure."""

    def __init__(self, datamap: DataMap) -> None:
        self.datamap = datamap
        self.graph: Graph = build_graph(datamap)
        self._specs = {key: (node.system.id, connection_spec(node.dataset),
                             collection_spec(node.dataset, node.collection))
                       for key, node in self.graph.nodes.items()}
        self._position = {key: i for i, key in enumerate(self.graph.nodes)}

    def plan(self, identity_kinds: Iterable[str]) -> Plan:
        """The plan for a person known by these identity kinds; an unknown kind is a `CharterError`."""
        kinds = tuple(sorted({parse_kind(kind).value for kind in identity_kinds}))
        distance = self.graph.distances(kinds)
        order = self._access_order(distance)
        step = {key: i for i, key in enumerate(order)}
        lookups = {key: self._lookups(key, kinds, step) for key in order}
        access = tuple(self._task(key, Action.ACCESS, i, lookups[key]) for i, key in enumerate(order))
        erasable = [key for key in order if self._specs[key][2].has_erasure]
        erasure = tuple(self._task(key, Action.ERASURE, i, lookups[key])
                        for i, key in enumerate(self._erasure_order(erasable, step)))
        return Plan(identity_kinds=kinds, access=access, erasure=erasure, keys_needed=_keys_needed(lookups),
                    unreachable=tuple(key for key in self.graph.nodes if key not in distance))

    def _task(self, key: str, action: Action, step: int, lookups: tuple[LookupSource, ...]) -> TaskSpec:
        system, connection, collection = self._specs[key]
        return TaskSpec(key=key, action=action, step=step, system=system, connection=connection,
                        collection=collection, lookups=lookups)

    def _lookups(self, key: str, kinds: Sequence[str], step: Mapping[str, int]) -> tuple[LookupSource, ...]:
        found = [LookupSource(field=name, identity=kind) for name, kind in self.graph.seeds.get(key, ())
                 if kind in kinds]
        found += [LookupSource(field=e.target_field, collection=e.source, source_field=e.source_field)
                  for e in self.graph.incoming(key) if e.source in step and step[e.source] < step[key]]
        return tuple(found)

    def _access_order(self, distance: Mapping[str, int]) -> list[str]:
        """Reachable collections, each after every reachable collection that leads to it; in a cycle, the one
        nearest an identity goes first (its own path from an identity is then already done)."""
        edges = [e for e in self.graph.edges if e.source in distance and e.target in distance]
        return _topological(distance, edges, before=lambda e: (e.source, e.target),
                            pick=lambda key: (distance[key], self._position[key]))

    def _erasure_order(self, keys: list[str], step: Mapping[str, int]) -> list[str]:
        """Children (holders of a reference) before the collections they point at; in a cycle, the deepest first."""
        wanted = set(keys)
        edges = [e for e in self.graph.edges if e.holder in wanted and e.parent in wanted]
        return _topological(wanted, edges, before=lambda e: (e.holder, e.parent), pick=lambda key: -step[key])


def _topological(keys: Iterable[str], edges: Sequence[Edge], *, before: Callable[[Edge], tuple[str, str]],
                 pick: Callable[[str], Any]) -> list[str]:
    """Kahn's algorithm; among the collections free to go, and to break a cycle, the lowest `pick` goes first."""
    remaining = set(keys)
    pairs = [before(e) for e in edges]
    order: list[str] = []
    while remaining:
        blocked = {b for a, b in pairs if a in remaining and b in remaining and a != b}
        free = remaining - blocked
        chosen = min(free or remaining, key=pick)
        order.append(chosen)
        remaining.discard(chosen)
    return order


def _keys_needed(lookups: Mapping[str, tuple[LookupSource, ...]]) -> dict[str, tuple[str, ...]]:
    needed: dict[str, dict[str, None]] = {}
    for sources in lookups.values():
        for s in sources:
            if s.collection is not None and s.source_field is not None:
                needed.setdefault(s.collection, {})[s.source_field] = None
    return {key: tuple(fields) for key, fields in needed.items()}


def plan_request(datamap: DataMap, identity_kinds: Iterable[str]) -> Plan:
    """The plan for a person known by `identity_kinds` (see `Planner` to plan many times over one map)."""
    return Planner(datamap).plan(identity_kinds)


def resolve_lookup(task: TaskSpec, identities: Mapping[str, Iterable[str]],
                   found: Mapping[str, Iterable[Mapping[str, Any]]]) -> Lookup:
    """The concrete lookup of a task: identity kind → the person's values of that kind; collection key → the rows
    (or saved keys) found there. Values are de-duplicated; None never matches."""
    values: dict[str, dict[Scalar, None]] = {}
    for source in task.lookups:
        if source.identity is not None:
            candidates: Iterable[object] = identities.get(source.identity, ())
        else:
            rows = found.get(source.collection or "", ())
            candidates = (row.get(source.source_field or "") for row in rows)
        bucket = values.setdefault(source.field, {})
        for value in candidates:
            if value is not None:
                bucket[as_scalar(value)] = None
    return Lookup(values={name: tuple(vals) for name, vals in values.items()})
