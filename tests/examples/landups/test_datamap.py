"""examples/landups/datamap.yaml matches the Landups schema: every table and column it names exists, every
column that holds a policy category is in it, and every dataset is in Hong Kong (LAN-STORAGE-HK).

Charter's own `charter datamap check` validates the file against the policy; this test ties it to the code."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from landups.db import Base
from landups.models import create_schema  # noqa: F401 - registers every table on Base.metadata
from landups.policyfacts import PolicyFacts
from landups.settings import DEFAULT_POLICY, HERE

DATAMAP = HERE.parent / "datamap.yaml"
MODELS = HERE / "models.py"
NOT_MAPPED = {
    "analytics_events": "no identifier: no person's rows can be found in it",
    "staff_members": "Landups' own staff, not users under this policy",
}


def _collections() -> dict[str, dict[str, Any]]:
    doc = yaml.safe_load(DATAMAP.read_text(encoding="utf-8"))
    return {c["name"]: c for s in doc["systems"] for d in s["datasets"] for c in d["collections"]}


def _categorised_columns() -> dict[str, set[str]]:
    """Columns commented `# cat:` in models.py, by table."""
    found: dict[str, set[str]] = {}
    table = ""
    for line in Path(MODELS).read_text(encoding="utf-8").splitlines():
        if m := re.match(r'\s+__tablename__ = "(\w+)"', line):
            table = m.group(1)
        elif (m := re.match(r"\s+(\w+): Mapped\[.*#\s*cat:", line)) and table:
            found.setdefault(table, set()).add(m.group(1))
    return found


def test_every_mapped_column_exists() -> None:
    tables = Base.metadata.tables
    for name, collection in _collections().items():
        assert name in tables, f"datamap names table {name}, which Landups does not have"
        for field in collection["fields"]:
            assert field["name"] in tables[name].columns, f"{name}.{field['name']} is not a column"


def test_every_categorised_column_is_mapped() -> None:
    mapped = {name: {f["name"] for f in c["fields"]} for name, c in _collections().items()}
    for table, columns in _categorised_columns().items():
        if table in NOT_MAPPED:
            continue
        missing = columns - mapped.get(table, set())
        assert not missing, f"{table}: {sorted(missing)} hold personal data but are not in the data map"
    assert set(Base.metadata.tables) - set(mapped) == set(NOT_MAPPED)


def test_categories_exist_and_every_dataset_is_in_hong_kong() -> None:
    policy = PolicyFacts.load(DEFAULT_POLICY)
    doc = yaml.safe_load(DATAMAP.read_text(encoding="utf-8"))
    assert doc["controller"] == "landups"
    for system in doc["systems"]:
        for dataset in system["datasets"]:
            assert dataset["region"] == "HK" and dataset["region"] in policy.storage_regions
            for collection in dataset["collections"]:
                for field in collection["fields"]:
                    assert set(field.get("categories", [])) <= set(policy.categories), field["name"]
