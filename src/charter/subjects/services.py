"""Finding and creating subjects by identity, linking identities, what decisions need to know of a subject
(age, restriction under PIPL art. 47, account suspension), and re-encrypting after key rotation."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import ARRAY, String, Table, bindparam, func, insert, or_, select, text
from sqlalchemy.orm import Session

from charter.accounts.services import ensure_collecting
from charter.audit.services import AuditLog
from charter.core.crypto import Keyring
from charter.core.db import utcnow
from charter.core.errors import CharterError, Conflict, NotFound
from charter.core.locks import lock_controller
from charter.subjects.models import Identity, Subject, SubjectChange
from charter.subjects.normalise import IdentityKind, normalise, parse_kind

_REASON = re.compile(r"^[a-z][a-z0-9_]{1,63}$")

# A join against the unnested array, not `id = ANY(:ids)`: with a parameter (not a constant list) PostgreSQL
# compares each row with every element, which for a batch of 500 costs milliseconds.
_EXISTING_PG = text(
    "SELECT s.id FROM unnest(:ids) AS wanted(id) JOIN subjects s ON s.id = wanted.id WHERE s.controller_id = :cid"
).bindparams(bindparam("ids", type_=ARRAY(String)))

_RECORD_CHANGE = insert(cast(Table, SubjectChange.__table__))
"""One `subject_changes` row per subject (`at` from the column's default), a Core INSERT built once: no ORM object
to flush."""

CHANGED_SUBJECTS = "charter.changed_subjects"
"""`session.info` key: the (controller, subject) pairs whose decision state this transaction changed."""


@dataclass(frozen=True)
class IdentityValue:
    kind: IdentityKind
    value: str


@dataclass(frozen=True)
class SubjectFlags:
    """What decisions need to know of a subject besides consent."""

    subject_id: str
    is_restricted: bool
    is_suspended: bool
    latest_birth: dt.date | None
    """The latest day the person can have been born; None when the host gave no age."""


def _context(controller_id: str) -> str:
    return f"identities.value:{controller_id}"


def _birth_context(controller_id: str) -> str:
    return f"subjects.latest_birth:{controller_id}"


# flag → (time column, reason column, audit verb when set, audit verb when lifted)
_FLAGS = {
    "restricted": ("restricted_at", "restriction_reason", "restricted", "restriction_lifted"),
    "suspended": ("suspended_at", "suspension_reason", "suspended", "unsuspended"),
}


def _reason(reason: str) -> str:
    if not isinstance(reason, str) or not _REASON.match(reason):
        raise CharterError(f"the reason {reason!r} is not a reason code", field="reason",
                           fix="Use a short code such as `user_report` or `legal_hold` (lowercase letters, digits, "
                               "underscores); never a sentence, which could carry personal data.")
    return reason


_BY_IDENTITY = select(Subject).join(Identity, Identity.subject_id == Subject.id).where(
    Identity.controller_id == bindparam("controller_id"), Identity.kind == bindparam("kind"),
    Identity.index_hash == bindparam("digest"))
"""The subject known by one identity's blind index (built once)."""


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
        return self.session.execute(_BY_IDENTITY, {"controller_id": controller_id, "kind": k.value,
                                                   "digest": digest}).scalar_one_or_none()

    def get(self, controller_id: str, subject_id: str) -> Subject:
        subject = self.session.get(Subject, subject_id)
        if subject is None or subject.controller_id != controller_id:
            raise NotFound("no such subject", field="subject_id",
                           fix="Use the id POST /v1/subjects returned for this controller.")
        return subject

    def resolve(self, controller_id: str, kind: str, value: str, *, actor: str) -> Subject:
        """The subject known by this identity, created on first sight."""
        found = self.find(controller_id, kind, value)
        if found is not None:
            return found
        # Two requests meeting the same new person at once (a host's sign-up report and its first decision) must
        # not both create them: the controller lock makes the second wait, and it then finds the first's subject.
        lock_controller(self.session, controller_id)
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

    def replace_identities(self, controller_id: str, subject_id: str, kind: str, value: str, *,
                           actor: str) -> int:
        """The person is known by `value` and no longer by their other identities of `kind` (a rectified phone
        number); returns how many were replaced. A value that is another person's is a `Conflict`."""
        self.get(controller_id, subject_id)
        k = parse_kind(kind)
        norm = normalise(k, value, self.default_region)
        digest = self._index(controller_id, k, norm)
        rows = list(self.session.execute(select(Identity).where(
            Identity.controller_id == controller_id, Identity.kind == k.value,
            or_(Identity.subject_id == subject_id, Identity.index_hash == digest))).scalars())
        if any(r.subject_id != subject_id for r in rows):
            raise Conflict(f"the corrected {k.value} already belongs to another person in Charter's records",
                           field="value", fix="Check the corrected value; if both records are the same person, "
                                              "link them first.")
        old = [r for r in rows if r.index_hash != digest]
        if rows and not old:
            return 0  # already known by this value alone
        for row in old:
            self.session.delete(row)
        if len(old) == len(rows):
            self.session.add(Identity(controller_id=controller_id, subject_id=subject_id, kind=k.value,
                                      index_hash=digest,
                                      value_encrypted=self.keyring.encrypt(norm, _context(controller_id))))
        self.session.flush()
        self.audit.record(controller_id, actor=actor, action="identity.corrected", target=f"subject:{subject_id}",
                          data={"kind": k.value, "replaced": len(old)})
        self.mark_changed(controller_id, subject_id)
        return len(old)

    def unlink(self, controller_id: str, subject_id: str, kind: str, value: str, *, actor: str) -> bool:
        """Detach an identity from the person (a linked account unlinked, LAN-ACCOUNT-LINK); False when they were
        not known by it. Their last identity stays: a person nobody can name could never ask for their data."""
        self.get(controller_id, subject_id)
        k = parse_kind(kind)
        digest = self._index(controller_id, k, normalise(k, value, self.default_region))
        identity = self.session.execute(select(Identity).where(
            Identity.controller_id == controller_id, Identity.subject_id == subject_id, Identity.kind == k.value,
            Identity.index_hash == digest)).scalar_one_or_none()
        if identity is None:
            return False
        remaining = self.session.execute(select(func.count()).select_from(Identity).where(
            Identity.controller_id == controller_id, Identity.subject_id == subject_id)).scalar_one()
        if remaining <= 1:
            raise Conflict(f"this {k.value} is the only identity the person is known by", field="value",
                           fix="Link the identity that replaces it first, then unlink this one.")
        self.session.delete(identity)
        self.session.flush()
        self.audit.record(controller_id, actor=actor, action="identity.unlinked", target=f"subject:{subject_id}",
                          data={"kind": k.value, "identity_id": identity.id})
        self.mark_changed(controller_id, subject_id)
        return True

    def move_identity(self, controller_id: str, kind: str, value: str, to_subject_id: str, *, actor: str) -> str:
        """Give an identity (a banner's visitor id) to another subject; returns the subject it came from."""
        self.get(controller_id, to_subject_id)
        k = parse_kind(kind)
        digest = self._index(controller_id, k, normalise(k, value, self.default_region))
        identity = self.session.execute(
            select(Identity).where(Identity.controller_id == controller_id, Identity.kind == k.value,
                                   Identity.index_hash == digest)
        ).scalar_one_or_none()
        if identity is None:
            raise NotFound(f"no subject is known by this {k.value}", field=k.value)
        previous = identity.subject_id
        if previous != to_subject_id:
            identity.subject_id = to_subject_id
            self.audit.record(controller_id, actor=actor, action="identity.moved", target=f"subject:{to_subject_id}",
                              data={"kind": k.value, "identity_id": identity.id, "from": f"subject:{previous}"})
            self.mark_changed(controller_id, previous, to_subject_id)
        return previous

    # --- what decisions need ---------------------------------------------------------------------------------

    def set_latest_birth(self, controller_id: str, subject_id: str, latest_birth: dt.date, basis: str, *,
                         actor: str) -> None:
        """Record the person's age (see `charter.subjects.age`); the date itself is stored encrypted."""
        subject = self.get(controller_id, subject_id)
        subject.latest_birth_encrypted = self.keyring.encrypt(latest_birth.isoformat(),
                                                              _birth_context(controller_id))
        subject.age_basis = basis
        self.audit.record(controller_id, actor=actor, action="subject.age_recorded", target=f"subject:{subject_id}",
                          data={"basis": basis})
        self.mark_changed(controller_id, subject_id)

    def restrict(self, controller_id: str, subject_id: str, reason: str, *, actor: str) -> None:
        """Stop all processing but storage and security (PIPL art. 47, last paragraph)."""
        self._flag(controller_id, subject_id, "restricted", reason, actor=actor)

    def lift_restriction(self, controller_id: str, subject_id: str, *, actor: str) -> None:
        self._flag(controller_id, subject_id, "restricted", None, actor=actor)

    def suspend(self, controller_id: str, subject_id: str, reason: str, *, actor: str) -> None:
        """Suspend the account's service (LUB-ACCOUNT-SECURITY): no non-essential processing until lifted."""
        self._flag(controller_id, subject_id, "suspended", reason, actor=actor)

    def unsuspend(self, controller_id: str, subject_id: str, *, actor: str) -> None:
        self._flag(controller_id, subject_id, "suspended", None, actor=actor)

    def _flag(self, controller_id: str, subject_id: str, flag: str, reason: str | None, *, actor: str) -> None:
        subject = self.get(controller_id, subject_id)
        code = _reason(reason) if reason is not None else None
        at_column, reason_column, on, off = _FLAGS[flag]
        if (getattr(subject, at_column) is not None) == (code is not None):
            return
        setattr(subject, at_column, utcnow() if code is not None else None)
        setattr(subject, reason_column, code)
        self.audit.record(controller_id, actor=actor, action=f"subject.{on if code else off}",
                          target=f"subject:{subject_id}", data={"reason": code} if code else {})
        self.mark_changed(controller_id, subject_id)

    def flags(self, controller_id: str, subject_id: str) -> SubjectFlags:
        subject = self.get(controller_id, subject_id)
        latest = None
        if subject.latest_birth_encrypted is not None:
            latest = dt.date.fromisoformat(self.keyring.decrypt(subject.latest_birth_encrypted,
                                                                _birth_context(controller_id)))
        return SubjectFlags(subject.id, subject.restricted_at is not None, subject.suspended_at is not None, latest)

    def existing(self, controller_id: str, subject_ids: Sequence[str]) -> set[str]:
        """Which of these ids are subjects of this controller (one query for a whole batch)."""
        if not subject_ids:
            return set()
        wanted = sorted(set(subject_ids))
        if self.session.get_bind().dialect.name == "postgresql":
            # One array parameter instead of an IN list of hundreds: compiled and planned once for any batch.
            return set(self.session.execute(_EXISTING_PG, {"cid": controller_id, "ids": wanted}).scalars())
        return set(self.session.execute(
            select(Subject.id).where(Subject.controller_id == controller_id, Subject.id.in_(wanted))).scalars())

    def mark_changed(self, controller_id: str, *subject_ids: str, persist: bool = True) -> None:
        """Tell in-process deciders that what they know of these subjects changed: at once (after commit) in
        this process through `session.info`, and through `subject_changes` in every other."""
        self.session.info.setdefault(CHANGED_SUBJECTS, set()).update((controller_id, s) for s in subject_ids)
        if not persist:  # the caller's own table is the feed other processes follow (the consent ledger's seq)
            return
        self.session.flush()  # the session's pending changes are written first, as the ORM flush of these rows did
        if subject_ids:
            self.session.connection().execute(_RECORD_CHANGE, [{"controller_id": controller_id, "subject_id": s}
                                                               for s in subject_ids])

    def identities(self, controller_id: str, subject_id: str) -> list[IdentityValue]:
        rows = self.session.execute(
            select(Identity.kind, Identity.value_encrypted)
            .where(Identity.controller_id == controller_id, Identity.subject_id == subject_id).order_by(Identity.id))
        context = _context(controller_id)
        return [IdentityValue(IdentityKind(kind), self.keyring.decrypt(value, context)) for kind, value in rows]


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


def reencrypt_birth_dates(session: Session, old: Keyring, new: Keyring) -> int:
    done = 0
    for row in session.execute(select(Subject).where(Subject.latest_birth_encrypted.is_not(None))).scalars():
        token = row.latest_birth_encrypted
        if token is None or new.key_id_of(token) == new.active:
            continue
        ctx = _birth_context(row.controller_id)
        row.latest_birth_encrypted = new.encrypt(old.decrypt(token, ctx), ctx)
        done += 1
    session.flush()
    return done


def changes_since(session: Session, controller_id: str, after_id: int) -> tuple[int, set[str]]:
    """Subjects whose decision state changed after change `after_id`, and the last change id seen."""
    rows = session.execute(
        select(SubjectChange.id, SubjectChange.subject_id)
        .where(SubjectChange.controller_id == controller_id, SubjectChange.id > after_id).order_by(SubjectChange.id)
    ).all()
    return (rows[-1][0] if rows else after_id), {r[1] for r in rows}


def last_change_id(session: Session, controller_id: str) -> int:
    row = session.execute(
        select(SubjectChange.id).where(SubjectChange.controller_id == controller_id)
        .order_by(SubjectChange.id.desc()).limit(1)
    ).scalar_one_or_none()
    return row or 0


REENCRYPTORS.append(reencrypt_identities)
REENCRYPTORS.append(reencrypt_birth_dates)
