"""What a controller holds, category by category, for the privacy centre's "what we hold about you": where each
category lives (system, region), the purposes that use it with their legal basis, and the recipients the policy
says receive it. Pure: built from a policy and a data map already loaded.
"""

from __future__ import annotations

from dataclasses import dataclass

from charter.datamap.schema import DataMap
from charter.policy.schema import Category, PolicyVersion, Purpose, Recipient

__all__ = ["Holding", "Place", "holdings"]


@dataclass(frozen=True)
class Place:
    system: str
    region: str


@dataclass(frozen=True)
class Holding:
    category: Category
    places: tuple[Place, ...]
    purposes: tuple[Purpose, ...]
    recipients: tuple[Recipient, ...]


def _places(datamap: DataMap | None) -> dict[str, list[Place]]:
    found: dict[str, list[Place]] = {}
    if datamap is None:
        return found
    for system in datamap.systems:
        for dataset in system.datasets:
            for collection in dataset.collections:
                for field in collection.fields:
                    for category in field.categories:
                        place = Place(system.name, dataset.region)
                        if place not in found.setdefault(category, []):
                            found[category].append(place)
    return found


def holdings(policy: PolicyVersion, datamap: DataMap | None) -> list[Holding]:
    """Every category the data map stores (every category a purpose uses, when there is no map yet)."""
    places = _places(datamap)
    used = {c for p in policy.purposes for c in p.categories}
    wanted = [c for c in policy.categories if (c.id in places if datamap is not None else c.id in used)]
    default = [Place("", region) for region in policy.storage_regions]
    return [Holding(category=c, places=tuple(places.get(c.id) or default),
                    purposes=tuple(p for p in policy.purposes if c.id in p.categories),
                    recipients=tuple(r for r in policy.recipients if c.id in r.categories))
            for c in wanted]
