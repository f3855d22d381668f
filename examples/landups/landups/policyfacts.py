"""What Landups reads from its own published policy (`examples/landups/policy.yaml`): the version a person is
shown at registration, and the purposes, categories and recipients with their labels in three languages.

Only facts the host needs to ask, label and report are read; Charter holds and enforces the policy itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from landups.i18n import Text


def _text(raw: Any) -> Text:
    return Text(en=str(raw["en"]).strip(), zh=str(raw["zh"]).strip(), zh_tw=str(raw["zh_tw"]).strip())


@dataclass(frozen=True)
class Purpose:
    id: str
    label: Text
    description: Text
    legal_basis: str
    is_essential: bool
    consent: str            # none | general | separate
    categories: tuple[str, ...]

    @property
    def needs_consent(self) -> bool:
        return self.consent != "none"


@dataclass(frozen=True)
class Recipient:
    id: str
    name: Text
    role: str
    purposes: tuple[str, ...]
    categories: tuple[str, ...]
    region: str


@dataclass(frozen=True)
class PolicyFacts:
    version: str
    effective: str
    storage_regions: tuple[str, ...]
    purposes: dict[str, Purpose]
    categories: dict[str, Text]
    recipients: dict[str, Recipient]

    @classmethod
    def load(cls, path: Path) -> PolicyFacts:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        purposes = {
            p["id"]: Purpose(
                id=p["id"], label=_text(p["label"]), description=_text(p["description"]),
                legal_basis=p["legal_basis"], is_essential=bool(p["is_essential"]), consent=p["consent"],
                categories=tuple(p["categories"]),
            )
            for p in doc["purposes"]
        }
        recipients = {
            r["id"]: Recipient(id=r["id"], name=_text(r["name"]), role=r["role"], purposes=tuple(r["purposes"]),
                               categories=tuple(r["categories"]), region=r["region"])
            for r in doc["recipients"]
        }
        return cls(
            version=str(doc["version"]), effective=str(doc["effective"]),
            storage_regions=tuple(doc["storage_regions"]), purposes=purposes,
            categories={c["id"]: _text(c["label"]) for c in doc["categories"]}, recipients=recipients,
        )

    def consent_purposes(self) -> list[Purpose]:
        """The purposes a person may say yes or no to, in the policy's order."""
        return [p for p in self.purposes.values() if p.needs_consent]

    def consent_purposes_at_registration(self) -> list[Purpose]:
        """The general-consent purposes, offered as unticked boxes at registration. Separate consent (sharing
        with third parties) is asked where it arises, on its own."""
        return [p for p in self.consent_purposes() if p.consent == "general"]

    def disclosed_categories(self, recipient_id: str, purpose_id: str) -> tuple[str, ...]:
        """What a recipient receives for a purpose: the categories both the purpose and the recipient name."""
        recipient = self.recipients[recipient_id]
        if purpose_id not in recipient.purposes:
            raise ValueError(f"recipient {recipient_id} is not declared for purpose {purpose_id}")
        allowed = set(recipient.categories)
        return tuple(c for c in self.purposes[purpose_id].categories if c in allowed)
