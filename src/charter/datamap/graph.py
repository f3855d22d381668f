"""The data map as a graph: collections are nodes, identity fields are where a search starts, and each reference
is an edge saying whose rows lead to whose. Pure: no I/O."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from charter.datamap.schema import Collection, DataField, DataMap, Dataset, Direction, Reference, System
from charter.datamap.specs import collection_key

__all__ = ["Edge", "Graph", "Node", "ResolvedField", "build_graph", "resolve_reference"]


@dataclass(frozen=True)
class Node:
    key: str
    system: System
    dataset: Dataset
    collection: Collection


@dataclass(frozen=True)
class ResolvedField:
    key: str
    """The collection's key, `dataset.collection`."""
    field: DataField


@dataclass(frozen=True)
class Edge:
    """Rows of `source` lead to rows of `target`: `target.target_field` equals `source.source_field`."""

    source: str
    source_field: str
    target: str
    target_field: str
    holder: str
    """The collection whose field declares the reference: the child, erased before the collection it points at."""

    @property
    def parent(self) -> str:
        return self.target if self.holder == self.source else self.source


@dataclass(frozen=True)
class Graph:
    nodes: Mapping[str, Node]
    """Every collection by key, in the order the map lists them."""
    seeds: Mapping[str, tuple[tuple[str, str], ...]]
    """Collection key → its identity fields as (field, identity kind)."""
    edges: tuple[Edge, ...]

    def incoming(self, key: str) -> Iterator[Edge]:
        return (e for e in self.edges if e.target == key)

    def distances(self, identity_kinds: Iterable[str] | None = None) -> dict[str, int]:
        """Collections reachable from the given identity kinds (all of them when None), by hops from an identity."""
        kinds = None if identity_kinds is None else set(identity_kinds)
        distance = {key: 0 for key, seeds in self.seeds.items()
                    if any(kinds is None or kind in kinds for _field, kind in seeds)}
        queue = deque(sorted(distance, key=self._order))
        outgoing: dict[str, list[Edge]] = {}
        for edge in self.edges:
            outgoing.setdefault(edge.source, []).append(edge)
        while queue:
            key = queue.popleft()
            for edge in outgoing.get(key, ()):
                if edge.target not in distance:
                    distance[edge.target] = distance[key] + 1
                    queue.append(edge.target)
        return distance

    def _order(self, key: str) -> int:
        return list(self.nodes).index(key)


def resolve_reference(datamap: DataMap, dataset: Dataset, reference: Reference) -> ResolvedField | None:
    """The field a reference names: `collection.field` in the same dataset, or `dataset.collection.field`."""
    parts = reference.field.split(".")
    if len(parts) == 2:
        target_dataset: Dataset | None = dataset
        collection_name, field_name = parts
    else:
        target_dataset = datamap.dataset(parts[0])
        collection_name, field_name = parts[1], parts[2]
    collection = target_dataset.collection(collection_name) if target_dataset else None
    field = collection.field(field_name) if collection else None
    if target_dataset is None or field is None:
        return None
    return ResolvedField(collection_key(target_dataset.id, collection_name), field)


def build_graph(datamap: DataMap) -> Graph:
    """Nodes, identity seeds and edges of a map; references that do not resolve are left out (check reports them)."""
    nodes: dict[str, Node] = {}
    seeds: dict[str, tuple[tuple[str, str], ...]] = {}
    edges: list[Edge] = []
    for system, dataset in datamap.datasets():
        for collection in dataset.collections:
            key = collection_key(dataset.id, collection.name)
            nodes.setdefault(key, Node(key, system, dataset, collection))
            found = tuple((f.name, f.identity.value) for f in collection.fields if f.identity is not None)
            if found:
                seeds[key] = found
            edges.extend(_edges_of(datamap, dataset, key, collection))
    return Graph(nodes=nodes, seeds=seeds, edges=tuple(dict.fromkeys(edges)))


def _edges_of(datamap: DataMap, dataset: Dataset, key: str, collection: Collection) -> Iterator[Edge]:
    for field in collection.fields:
        for reference in field.references:
            other = resolve_reference(datamap, dataset, reference)
            if other is None or other.key == key:
                continue
            if reference.direction is Direction.FROM:
                yield Edge(other.key, other.field.name, key, field.name, holder=key)
            else:
                yield Edge(key, field.name, other.key, other.field.name, holder=key)
