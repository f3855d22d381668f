"""Who is affected: the people whose identities are in the collections an incident touched, found through the
connectors and streamed page by page into `incident_affected` (encrypted, blind-indexed, de-duplicated), never
the whole collection in memory.

A collection with identity fields (email, phone, account id) gives them directly. One without is followed back
through the data map's references to the nearest collection that has them (an order leads to its customer's
email). Rows collected after the incident's window closed are left out when the collection names `collected_at`.

```python
resolution = AffectedResolver(sessions, keyring, Secrets.from_environment()).resolve("acme", incident_id)
resolution.identities, resolution.subjects
```
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from charter.audit.services import AuditLog
from charter.connectors.base import CollectionSpec, Connector, Lookup, Row, Scan, StoreKind
from charter.core.crypto import Keyring
from charter.core.db import transaction, utcnow
from charter.core.errors import CharterError
from charter.core.secrets import Secrets
from charter.datamap.connections import ConnectorPool
from charter.datamap.graph import Edge, Graph, build_graph
from charter.datamap.schema import DataMap
from charter.datamap.services import DataMapStore, as_datamap
from charter.datamap.specs import collection_spec, connection_spec
from charter.incidents.models import AffectedPerson
from charter.incidents.services import Incidents, affected_context
from charter.subjects.models import Identity
from charter.subjects.normalise import IdentityKind, normalise

__all__ = ["AffectedResolver", "CollectionResolution", "Resolution", "affected_collections", "identity_route"]

LOOKUP_CHUNK = 1000
"""Values per lookup when following a reference: keeps each query's parameter list bounded."""


@dataclass(frozen=True)
class Route:
    """How to get from a collection's rows to identities: follow `hops` (each edge backwards), then read the
    identity fields of the last collection."""

    start: str
    hops: tuple[Edge, ...]
    identities: tuple[tuple[str, str], ...]
    """(field, identity kind) of the collection the route ends at."""


@dataclass
class CollectionResolution:
    key: str
    rows: int = 0
    identities: int = 0
    """Usable identities read (one person may be found in several pages or collections)."""
    route: str = ""
    manual: bool = False
    error: str | None = None

    def as_json(self) -> dict[str, object]:
        return {"collection": self.key, "rows": self.rows, "identities": self.identities, "route": self.route,
                "manual": self.manual, "error": self.error}


@dataclass
class Resolution:
    incident_id: str
    collections: list[CollectionResolution] = field(default_factory=list)
    identities: int = 0
    subjects: int = 0
    people: int = 0
    """Distinct people: known subjects, plus each identity Charter cannot tie to one."""


def affected_collections(datamap: DataMap, systems: Iterable[str]) -> list[str]:
    """The collection keys an incident's `systems` name (a system id, a dataset id or `dataset.collection`)."""
    keys: dict[str, None] = {}
    for name in systems:
        for system, dataset in datamap.datasets():
            for collection in dataset.collections:
                key = f"{dataset.id}.{collection.name}"
                if name in (system.id, dataset.id, key):
                    keys[key] = None
    return list(keys)


def identity_route(graph: Graph, key: str) -> Route | None:
    """The shortest way back from a collection to identity fields, breadth first over references."""
    seen = {key}
    queue: deque[tuple[str, tuple[Edge, ...]]] = deque([(key, ())])
    while queue:
        current, hops = queue.popleft()
        seeds = graph.seeds.get(current, ())
        if seeds:
            return Route(key, hops, tuple(seeds))
        for edge in graph.edges:
            if edge.target == current and edge.source not in seen:
                seen.add(edge.source)
                queue.append((edge.source, (*hops, edge)))
    return None


def _describe(route: Route) -> str:
    path = " ← ".join([route.start, *(e.source for e in route.hops)])
    return f"{path}: {', '.join(f'{f} ({k})' for f, k in route.identities)}"


class AffectedResolver:
    def __init__(self, sessions: sessionmaker[Session], keyring: Keyring, secrets: Secrets, *,
                 page_size: int = 5_000, clock: Callable[[], dt.datetime] = utcnow,
                 on_page: Callable[[str, int], None] | None = None) -> None:
        self.sessions = sessions
        self.keyring = keyring
        self.secrets = secrets
        self.page_size = page_size
        self.clock = clock
        self.on_page = on_page
        """Called with (collection, rows read) after each page: for a progress display."""

    def resolve(self, controller_id: str, incident_id: str, *, actor: str) -> Resolution:
        with transaction(self.sessions) as session:
            incident = Incidents(session).get(controller_id, incident_id)
            datamap = as_datamap(DataMapStore(session).current(controller_id))
            until, systems = incident.occurred_until, list(incident.systems)
        graph = build_graph(datamap)
        result = Resolution(incident_id)
        with ConnectorPool(self.secrets) as pool:
            for key in affected_collections(datamap, systems):
                result.collections.append(self._collection(pool, graph, key, controller_id=controller_id,
                                                           incident_id=incident_id, until=until))
        with transaction(self.sessions) as session:
            self._finish(session, controller_id, incident_id, result, actor)
        return result

    def _collection(self, pool: ConnectorPool, graph: Graph, key: str, *, controller_id: str, incident_id: str,
                    until: dt.datetime | None) -> CollectionResolution:
        outcome = CollectionResolution(key)
        node = graph.nodes[key]
        if node.dataset.kind is StoreKind.MANUAL:
            outcome.manual, outcome.route = True, "a manual store: staff must search it"
            return outcome
        route = identity_route(graph, key)
        if route is None:
            outcome.error = "no identity field can be reached from this collection"
            return outcome
        outcome.route = _describe(route)
        spec = collection_spec(node.dataset, node.collection)
        first = route.hops[0].target_field if route.hops else None
        fields = (first,) if first else tuple(f for f, _k in route.identities)
        window = node.collection.collected_at if until is not None else None
        try:
            connector = pool.get(connection_spec(node.dataset))
            scan = Scan(fields=fields, field=window, until=until if window else None, chunk_size=self.page_size)
            for page in connector.scan(spec, scan):
                found = list(self._identities(pool, graph, route, page))
                outcome.rows += len(page)
                outcome.identities += self._store(controller_id, incident_id, found)
                if self.on_page:
                    self.on_page(key, len(page))
        except CharterError as exc:
            outcome.error = exc.message
        return outcome

    def _identities(self, pool: ConnectorPool, graph: Graph, route: Route,
                    page: Sequence[Row]) -> Iterator[tuple[str, Any]]:
        rows: Sequence[Row] = page
        for edge in route.hops:
            values = list(dict.fromkeys(r.get(edge.target_field) for r in rows if r.get(edge.target_field) is not None))
            rows = list(self._follow(pool, graph, edge, values))
        for row in rows:
            for name, kind in route.identities:
                if row.get(name) is not None:
                    yield kind, row[name]

    def _follow(self, pool: ConnectorPool, graph: Graph, edge: Edge, values: list[Any]) -> Iterator[Row]:
        node = graph.nodes[edge.source]
        spec: CollectionSpec = collection_spec(node.dataset, node.collection)
        connector: Connector = pool.get(connection_spec(node.dataset))
        for start in range(0, len(values), LOOKUP_CHUNK):
            lookup = Lookup(values={edge.source_field: tuple(values[start:start + LOOKUP_CHUNK])})
            yield from connector.retrieve(spec, lookup).rows

    def _store(self, controller_id: str, incident_id: str, found: Sequence[tuple[str, Any]]) -> int:
        """Insert the page's identities, skipping those already found; returns how many were usable."""
        rows: dict[tuple[str, str], dict[str, Any]] = {}
        for kind, raw in found:
            try:
                value = normalise(IdentityKind(kind), str(raw))
            except (CharterError, ValueError):
                continue  # a malformed email or number cannot be written to; the count says how many were usable
            digest = self.keyring.blind_index(f"{controller_id}:{kind}", value)
            rows[(kind, digest)] = {"incident_id": incident_id, "controller_id": controller_id, "kind": kind,
                                    "index_hash": digest, "value_encrypted": self.keyring.encrypt(
                                        value, affected_context(controller_id))}
        if not rows:
            return 0
        with transaction(self.sessions) as session:
            session.execute(_insert_ignoring_duplicates(session), list(rows.values()))
        return len(rows)

    def _finish(self, session: Session, controller_id: str, incident_id: str, result: Resolution, actor: str) -> None:
        # Tie each identity to the person Charter knows by it: the blind indexes are computed the same way.
        known = (select(Identity.subject_id).where(
            Identity.controller_id == controller_id, Identity.kind == AffectedPerson.kind,
            Identity.index_hash == AffectedPerson.index_hash).scalar_subquery())
        session.execute(update(AffectedPerson).where(AffectedPerson.incident_id == incident_id)
                        .values(subject_id=known))
        result.identities = _count(session, incident_id)
        result.subjects = session.execute(select(func.count(func.distinct(AffectedPerson.subject_id))).where(
            AffectedPerson.incident_id == incident_id)).scalar_one()
        unlinked = session.execute(select(func.count()).select_from(AffectedPerson).where(
            AffectedPerson.incident_id == incident_id, AffectedPerson.subject_id.is_(None))).scalar_one()
        result.people = result.subjects + unlinked
        incident = Incidents(session).get(controller_id, incident_id)
        incident.affected_count, incident.affected_resolved_at = result.people, self.clock()
        incident.resolution = {"collections": [c.as_json() for c in result.collections],
                               "identities": result.identities, "subjects": result.subjects}
        AuditLog(session).record(controller_id, actor=actor, action="incident.affected_resolved",
                                 target=f"incident:{incident_id}",
                                 data={"people": result.people, "identities": result.identities,
                                       "subjects": result.subjects,
                                       "collections": [c.key for c in result.collections],
                                       "manual": [c.key for c in result.collections if c.manual],
                                       "errors": [c.key for c in result.collections if c.error]})


def _count(session: Session, incident_id: str) -> int:
    return session.execute(select(func.count()).select_from(AffectedPerson).where(
        AffectedPerson.incident_id == incident_id)).scalar_one()


def _insert_ignoring_duplicates(session: Session) -> Any:
    """INSERT that skips an identity already found (the unique index), in the database's own words."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return pg_insert(AffectedPerson).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite_insert(AffectedPerson).on_conflict_do_nothing()
    return insert(AffectedPerson).prefix_with("IGNORE")
