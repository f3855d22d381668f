"""What a sweep does to each collection, as a pure function of the data map, the legal holds and the moment.

```python
targets = sweep_targets(datamap, holds, now)        # retention rules: the expired rows of each collection
targets = shutdown_targets(datamap, holds)          # ceasing operations: every row of every collection
for target in targets:
    if target.status is TargetStatus.SWEEP:
        connector.expire(target.collection, target.expiry(keep=held_rows_of(target)))
```

A `days:` rule expires a row `days` after its `collected_at`; a `while:` rule expires it `after_days` after its
`ended_at` (a row whose `ended_at` is NULL lasts). A collection without the field its rule needs is reported, not
guessed at. Targets come children first, so a real foreign key never blocks deleting an expired parent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from charter.connectors.base import CollectionSpec, ConnectionSpec, Expiry, Lookup, StoreKind
from charter.datamap.plan import Planner
from charter.datamap.schema import Collection, DataMap, Dataset, RetentionRule
from charter.datamap.specs import collection_key, collection_spec, connection_spec

__all__ = ["HoldScope", "SweepTarget", "TargetStatus", "cutoff", "held_for", "shutdown_targets", "sweep_targets"]

DEFAULT_CHUNK = 10_000


class TargetStatus(StrEnum):
    SWEEP = "sweep"
    """Expired rows are erased (the rows of people a hold covers excepted)."""
    HELD = "held"
    """A legal hold covers the whole collection: nothing is erased."""
    NO_FIELD = "no_field"
    """The rule needs `collected_at` (or `ended_at`), which the collection does not name."""
    MANUAL = "manual"
    """A manual store: staff apply the rule by hand."""
    NOTHING_TO_ERASE = "nothing_to_erase"
    """Every field is kept (or holds nothing personal): erasure changes nothing."""


@dataclass(frozen=True)
class HoldScope:
    """A legal hold in force, as the sweep needs it."""

    id: str
    dataset: str
    collection: str | None
    subject_id: str | None
    expires_at: dt.datetime

    def covers(self, dataset: str, collection: str) -> bool:
        return self.dataset == dataset and self.collection in (None, collection)


@dataclass(frozen=True)
class SweepTarget:
    key: str
    """`dataset.collection`."""
    rule: str
    status: TargetStatus
    connection: ConnectionSpec
    collection: CollectionSpec
    field: str | None = None
    """The moment compared with the cutoff; None erases every row (ceasing operations)."""
    cutoff: dt.datetime | None = None
    holds: tuple[str, ...] = ()
    """Holds that keep the whole collection (HELD) or some people's rows in it (SWEEP)."""
    subject_holds: tuple[HoldScope, ...] = ()
    """Holds on one person's rows here: those rows are left alone, the others swept."""

    def expiry(self, keep: Lookup | None = None, chunk_size: int = DEFAULT_CHUNK) -> Expiry:
        return Expiry(field=self.field, before=self.cutoff, keep=keep, chunk_size=chunk_size)


def cutoff(rule: RetentionRule, now: dt.datetime) -> dt.datetime:
    """Rows whose moment is before this have expired: `days` after collection, or `after_days` after the end."""
    if rule.days is not None:
        return now - dt.timedelta(days=rule.days)
    return now - dt.timedelta(days=rule.after_days or 0)


def held_for(holds: Iterable[HoldScope], subject_id: str, keys: Iterable[str],
             now: dt.datetime) -> dict[str, HoldScope]:
    """Collection key (`dataset.collection`) → the hold in force that keeps this person's rows there: what an
    erasure request must leave and report as held (LAN-LIMITS)."""
    out: dict[str, HoldScope] = {}
    for key in keys:
        dataset, _, collection = key.partition(".")
        for hold in holds:
            if hold.expires_at > now and hold.subject_id in (None, subject_id) and hold.covers(dataset, collection):
                out.setdefault(key, hold)
    return out


def _field_for(rule: RetentionRule, collection: Collection) -> str | None:
    return collection.collected_at if rule.days is not None else collection.ended_at


def sweep_targets(datamap: DataMap, holds: Iterable[HoldScope], now: dt.datetime) -> list[SweepTarget]:
    """Every collection of the map with what the sweep does there at `now`, children first."""
    in_force = [h for h in holds if h.expires_at > now]
    targets = []
    for dataset, collection in _in_erasure_order(datamap):
        rule = datamap.retention_rule(dataset.retention)
        if rule is None:  # the map's checks refuse this; a stored map is never missing its rule
            continue
        field = _field_for(rule, collection)
        base = _target(dataset, collection, rule.id, in_force)
        if base.status is not TargetStatus.SWEEP:
            targets.append(base)
        elif field is None:
            targets.append(replace(base, status=TargetStatus.NO_FIELD))
        else:
            targets.append(replace(base, field=field, cutoff=cutoff(rule, now)))
    return targets


def shutdown_targets(datamap: DataMap, holds: Iterable[HoldScope], now: dt.datetime) -> list[SweepTarget]:
    """Every collection, every row (ceasing operations, LUB-SHUTDOWN); holds in force still keep what they cover."""
    in_force = [h for h in holds if h.expires_at > now]
    return [_target(dataset, collection, dataset.retention, in_force)
            for dataset, collection in _in_erasure_order(datamap)]


def _target(dataset: Dataset, collection: Collection, rule: str, holds: Sequence[HoldScope]) -> SweepTarget:
    covering = [h for h in holds if h.covers(dataset.id, collection.name)]
    whole = tuple(h.id for h in covering if h.subject_id is None)
    people = tuple(h for h in covering if h.subject_id is not None)
    spec, connection = collection_spec(dataset, collection), connection_spec(dataset)
    status = TargetStatus.SWEEP
    if whole:
        status = TargetStatus.HELD
    elif dataset.kind is StoreKind.MANUAL:
        status = TargetStatus.MANUAL
    elif not (spec.deletes_rows or spec.erased_fields):
        status = TargetStatus.NOTHING_TO_ERASE
    return SweepTarget(key=collection_key(dataset.id, collection.name), rule=rule, status=status,
                       connection=connection, collection=spec,
                       holds=whole or tuple(h.id for h in people), subject_holds=people)


def _in_erasure_order(datamap: DataMap) -> list[tuple[Dataset, Collection]]:
    """Children (holders of a reference) before the collections they point at, as erasure orders them."""
    planner = Planner(datamap)
    kinds = {kind for seeds in planner.graph.seeds.values() for _field, kind in seeds}
    order = [task.key for task in planner.plan(kinds).erasure] if kinds else []
    nodes = planner.graph.nodes
    rest = [key for key in nodes if key not in order]
    return [(nodes[key].dataset, nodes[key].collection) for key in (*order, *rest)]
