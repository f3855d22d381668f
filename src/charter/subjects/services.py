"""Finding and creating subjects by identity, linking identities, and re-encrypting after key rotation."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from charter.accounts.services import ensure_collecting
from charter.audit.services import AuditLog
from charter.core.crypto import Keyring
from charter.core.errors import Conflict, NotFound
from charter.subjects.models import Identity, Subject
from charter.subjects.normalise import IdentityKind, normalise, parse_kind


@dataclass(frozen=True)
class IdentityValue:
    kind: IdentityKind
    value: str


def _context(controller_id: str) -> str:
    return f"identities.value:{controller_id}"


class SubjectDirectory:
    def __init__(self, session: Session, keyring: Keyring, *, default_region: str = "CN") -> None:
        self.session = session
        self.keyring = keyring
        self.default_region = default_region
        self.audit = AuditLog(session)

    def _index(self, controller_id: str, kind: IdentityKind, value: str) -> str:
        return self.keyring.blind_index(f"{controller_id}:{kind.value}", value)

    def find(self, controller_id: str, kind: str, value: str) -> Subject | None:
        k = parse_kind(kind)
        digest = self._index(controller_id, k, normalise(k, value, self.default_region))
        return self.session.execute(
            select(Subject).join(Identity, Identity.subject_id == Subject.id).where(
                Identity.controller_id == controller_id, Identity.kind == k.value, Identity.index_hash == digest)
        ).scalar_one_or_none()

    def get(self, controller_id: str, subject_id: str) -> Subject:
        subject = self.session.get(Subject, subject_id)
        if subject is None or subject.controller_id != controller_id:
            raise NotFound("no such subject")
        return subject

    def resolve(self, controller_id: str, kind: str, value: str, *, actor: str) -> Subject:
        """The subject known by this identity, created on first sight."""
        found = self.find(controller_id, kind, value)
        if found is not None:
            return found
        ensure_collecting(self.session, controller_id)
        subject = Subject(id=str(uuid.uuid4()), controller_id=controller_id)
        self.session.add(subject)
        self.session.flush()
        self.audit.record(controller_id, actor=actor, action="subject.created", target=f"subject:{subject.id}")
        self.link(controller_id, subject.id, kind, value, actor=actor)
        return subject

    def link(self, controller_id: str, subject_id: str, kind: str, value: str, *, actor: str) -> Identity:
        """Attach another identity (a phone, a linked account) to the same person (LAN-ACCOUNT-LINK)."""
        self.get(controller_id, subject_id)
        k = parse_kind(kind)
        norm = normalise(k, value, self.default_region)
        digest = self._index(controller_id, k, norm)
        existing = self.session.execute(
            select(Identity).where(Identity.controller_id == controller_id, Identity.kind == k.value,
                                   Identity.index_hash == digest)
        ).scalar_one_or_none()
        if existing is not None:
            if existing.subject_id != subject_id:
                raise Conflict(f"this {k.value} already belongs to another subject", field=k.value)
            return existing
        ensure_collecting(self.session, controller_id)
        identity = Identity(controller_id=controller_id, subject_id=subject_id, kind=k.value, index_hash=digest,
                            value_encrypted=self.keyring.encrypt(norm, _context(controller_id)))
        self.session.add(identity)
        self.session.flush()
        self.audit.record(controller_id, actor=actor, action="identity.linked", target=f"subject:{subject_id}",
                          data={"kind": k.value, "identity_id": identity.id})
        return identity

    def identities(self, controller_id: str, subject_id: str) -> list[IdentityValue]:
        rows = self.session.execute(
            select(Identity).where(Identity.controller_id == controller_id, Identity.subject_id == subject_id)
            .order_by(Identity.id)
        ).scalars()
        return [IdentityValue(IdentityKind(r.kind), self.keyring.decrypt(r.value_encrypted,
                                                                         _context(controller_id)))
                for r in rows]


Reencryptor = Callable[[Session, Keyring, Keyring], int]
"""Re-encrypts one kind of stored value from the old keyring's keys to the new active key; returns rows done."""

REENCRYPTORS: list[Reencryptor] = []


def reencrypt_identities(session: Session, old: Keyring, new: Keyring) -> int:
    done = 0
    for row in session.execute(select(Identity)).scalars():
        if new.key_id_of(row.value_encrypted) == new.active:
            continue
        ctx = _context(row.controller_id)
        row.value_encrypted = new.encrypt(old.decrypt(row.value_encrypted, ctx), ctx)
        done += 1
    session.flush()
    return done


REENCRYPTORS.append(reencrypt_identities)
