"""Small policies for tests: the minimal fixture, edited line by line, and where things are in it."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from charter.policy.loader import LoadedPolicy, load_policy_text
from charter.policy.schema import PolicyVersion

FIXTURES = Path(__file__).parent / "fixtures"
MINIMAL = FIXTURES / "minimal.yaml"
EXAMPLES = Path(__file__).parents[2] / "examples"
LUBPUR = EXAMPLES / "lubpur" / "policy.yaml"
LANDUPS = EXAMPLES / "landups" / "policy.yaml"


def minimal_text() -> str:
    return MINIMAL.read_text(encoding="utf-8")


def edit(text: str, *replacements: tuple[str, str]) -> str:
    """Replace each `old` (which must occur exactly once) with `new`."""
    for old, new in replacements:
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
        text = text.replace(old, new)
    return text


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """The 1-based line of the `occurrence`-th line containing `needle`."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(hits) >= occurrence, f"{needle!r} found on {len(hits)} lines"
    return hits[occurrence - 1]


def load(text: str, source: str = "policy.yaml") -> LoadedPolicy:
    return load_policy_text(text, source)


def minimal() -> PolicyVersion:
    return load(minimal_text()).policy


def minimal_data() -> dict[str, Any]:
    data = yaml.safe_load(minimal_text())
    assert isinstance(data, dict)
    return data


def policy_from(data: dict[str, Any]) -> PolicyVersion:
    return PolicyVersion.model_validate(copy.deepcopy(data))
