"""What the platform needs from the published policy: version, minors' threshold, purposes, and its text.

Read from `examples/lubpur/policy.yaml` (the same document Charter publishes; `charter demo` publishes this file).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class Purpose:
    id: str
    label_zh: str
    label_en: str
    is_essential: bool
    consent: str


@dataclass(frozen=True)
class Clause:
    id: str
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str


@dataclass(frozen=True)
class PolicyInfo:
    controller_id: str
    version: str
    effective: dt.date
    minor_age_threshold: int
    jurisdictions: tuple[str, ...]
    purposes: dict[str, Purpose]
    clauses: tuple[Clause, ...]

    def is_essential(self, purpose: str) -> bool:
        return purpose in self.purposes and self.purposes[purpose].is_essential


def _purpose(doc: dict[str, Any]) -> Purpose:
    return Purpose(doc["id"], doc["label"]["zh"], doc["label"]["en"], bool(doc["is_essential"]), doc["consent"])


def _clause(doc: dict[str, Any]) -> Clause:
    return Clause(doc["id"], doc["title"]["zh"], doc["title"]["en"], doc["body"]["zh"], doc["body"]["en"])


@cache
def load_policy(path: Path) -> PolicyInfo:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    effective = doc["effective"]
    return PolicyInfo(
        controller_id=doc["controller"]["id"],
        version=str(doc["version"]),
        effective=effective if isinstance(effective, dt.date) else dt.date.fromisoformat(str(effective)),
        minor_age_threshold=int(doc["minors"]["age_threshold"]),
        jurisdictions=tuple(doc.get("jurisdictions", [])),
        purposes={p["id"]: _purpose(p) for p in doc["purposes"]},
        clauses=tuple(_clause(c) for c in doc["clauses"]),
    )
