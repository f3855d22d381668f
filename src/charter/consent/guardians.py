"""Guardians of minors (PIPL art. 31; LUB-MINORS): finding the guardian-consent records a contact belongs to,
the record a guardian acts under in the privacy centre, and the guardian record a consent given there carries.

A guardian's contact (email or phone) is stored encrypted with the record; `contact_index` is a keyed hash of its
normalised form, so a guardian who signs in with that contact finds their records without anything being
decrypted. Records written before the index existed get theirs on the first look-up for their controller.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from charter.consent.models import GuardianRecord
from charter.consent.schemas import GuardianIn, Relationship, VerificationMethod
from charter.core.crypto import Keyring
from charter.core.errors import CharterError, NotFound
from charter.subjects.normalise import IdentityKind, normalise

__all__ = ["NO_CONTACT", "GuardianDetails", "Guardians", "contact_index", "details_context", "parse_contact"]

NO_CONTACT = "-"
"""The index of a record whose contact is neither an email address nor a phone number: it never matches."""


def details_context(controller_id: str) -> str:
    return f"guardian_records.details:{controller_id}"


def parse_contact(contact: str) -> tuple[IdentityKind, str] | None:
    """An email address or a phone number, normalised as identities are; None for anything else."""
    kind = IdentityKind.EMAIL if "@" in contact else IdentityKind.PHONE
    try:
        return kind, normalise(kind, contact.strip())
    except CharterError:
        return None


def contact_index(keyring: Keyring, controller_id: str, contact: str) -> str:
    found = parse_contact(contact)
    if found is None:
        return NO_CONTACT
    kind, value = found
    return keyring.blind_index(f"{controller_id}:guardian_contact", f"{kind.value}:{value}")


@dataclass(frozen=True)
class GuardianDetails:
    name: str
    contact: str


class Guardians:
    def __init__(self, session: Session, keyring: Keyring) -> None:
        self.session = session
        self.keyring = keyring

    def for_contact(self, controller_id: str, contact: str) -> list[GuardianRecord]:
        """The latest record per minor naming this contact as the guardian's (erased minors left out)."""
        if parse_contact(contact) is None:
            return []
        self._index_missing(controller_id)
        rows = self.session.execute(
            select(GuardianRecord).where(GuardianRecord.controller_id == controller_id,
                                         GuardianRecord.contact_index == contact_index(self.keyring, controller_id,
                                                                                       contact),
                                         GuardianRecord.subject_id.is_not(None), GuardianRecord.erased_at.is_(None))
            .order_by(GuardianRecord.created_at.desc(), GuardianRecord.id)).scalars()
        latest: dict[str, GuardianRecord] = {}
        for row in rows:
            latest.setdefault(str(row.subject_id), row)
        return list(latest.values())

    def _index_missing(self, controller_id: str) -> int:
        rows = self.session.execute(
            select(GuardianRecord).where(GuardianRecord.controller_id == controller_id,
                                         GuardianRecord.contact_index.is_(None),
                                         GuardianRecord.details_encrypted.is_not(None))).scalars().all()
        for row in rows:
            row.contact_index = contact_index(self.keyring, controller_id, self.details(row).contact)
        self.session.flush()
        return len(rows)

    def latest_for(self, controller_id: str, subject_id: str) -> GuardianRecord | None:
        """The newest guardian consent on record for this minor."""
        return self.session.execute(
            select(GuardianRecord).where(GuardianRecord.controller_id == controller_id,
                                         GuardianRecord.subject_id == subject_id, GuardianRecord.erased_at.is_(None))
            .order_by(GuardianRecord.created_at.desc(), GuardianRecord.id).limit(1)).scalar_one_or_none()

    def get(self, controller_id: str, record_id: str, subject_id: str) -> GuardianRecord:
        """The record a guardian acts under: of this controller, for this minor, not erased."""
        row = self.session.get(GuardianRecord, record_id)
        if row is None or row.controller_id != controller_id or row.subject_id != subject_id or row.erased_at:
            raise NotFound("no guardian record for this person", field="guardian_record_id")
        return row

    def details(self, record: GuardianRecord) -> GuardianDetails:
        if record.details_encrypted is None:
            raise NotFound("the guardian's details were erased", field="guardian_record_id")
        raw = json.loads(self.keyring.decrypt(record.details_encrypted, details_context(record.controller_id)))
        return GuardianDetails(str(raw["name"]), str(raw["contact"]))

    def consent_record(self, record: GuardianRecord, *, method: VerificationMethod, verified_at: dt.datetime,
                       rules_version: str) -> GuardianIn:
        """The guardian record a consent the guardian gives now carries: who they are (from the record they signed
        in under), how and when they proved it, and the policy version whose minors' rules they were shown."""
        details = self.details(record)
        return GuardianIn(name=details.name, relationship=Relationship(record.relationship), contact=details.contact,
                          verification_method=method, verified_at=verified_at, rules_version=rules_version)
