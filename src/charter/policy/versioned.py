"""Immutable, content-hashed document versions per controller: what the policy and data map stores share.

A version is published once under a label; publishing the same content again gives back the first record, and
different content under a label already used is a `Conflict`. Rows are inserted, never updated.

    class PolicyStore(VersionedDocuments[PolicyVersionRecord]):
        record_type, kind, noun = PolicyVersionRecord, "policy", "policy"
        listing = "GET /v1/policies or `charter policy list`"
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, Generic, TypeVar

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from charter.audit.services import AuditLog
from charter.core.db import utcnow
from charter.core.errors import CharterError, Conflict, NotFound
from charter.core.yamldoc import Problem


class VersionedDocument:
    """Columns every published document version has (a mixin for the ORM models)."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    controller_id: Mapped[str] = mapped_column(ForeignKey("controllers.id"), index=True)
    version: Mapped[str] = mapped_column(String(64))
    content_hash: Mapped[str] = mapped_column(String(80))
    document: Mapped[dict[str, object]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(Text)
    published_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    published_by: Mapped[str] = mapped_column(String(200))


R = TypeVar("R", bound=VersionedDocument)


class DocumentInvalid(CharterError):
    """A document with problems (each with file, line, field path and fix): nothing was stored."""

    def __init__(self, noun: str, problems: Sequence[Problem]) -> None:
        super().__init__(f"the {noun} has {len(problems)} problem(s); nothing was stored",
                         fix="Correct each problem listed and publish again.")
        self.problems = list(problems)


@dataclass(frozen=True)
class Published(Generic[R]):
    record: R
    created: bool
    """False when the same content was already published: publishing is idempotent."""


class VersionedDocuments(Generic[R]):
    record_type: ClassVar[type[VersionedDocument]]
    kind: ClassVar[str]
    """The audit prefix: `{kind}.published` on `{kind}:{id}`."""
    noun: ClassVar[str]
    """What the document is called in messages: "policy", "data map"."""
    listing: ClassVar[str]
    """Where to list the published versions, for a "not found" fix."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.audit = AuditLog(session)

    def find(self, controller_id: str, *, version: str | None = None, content_hash: str | None = None) -> R | None:
        model = self.record_type
        q = select(model).where(model.controller_id == controller_id)
        if version is not None:
            q = q.where(model.version == version)
        if content_hash is not None:
            q = q.where(model.content_hash == content_hash)
        found: R | None = self.session.execute(q).scalar_one_or_none()  # type: ignore[assignment]
        return found

    def get(self, controller_id: str, version: str) -> R:
        record = self.find(controller_id, version=version)
        if record is None:
            raise NotFound(f"no published {self.noun} version {version!r}", fix=f"List versions with {self.listing}.")
        return record

    def store(self, record: R, *, actor: str, data: Mapping[str, object]) -> Published[R]:
        """Insert `record` unless its content is already published; audit the publication (with `data`) if new."""
        same = self.find(record.controller_id, content_hash=record.content_hash)
        if same is not None:
            return Published(same, created=False)
        if self.find(record.controller_id, version=record.version) is not None:
            raise Conflict(f"{self.noun} version {record.version!r} is already published with different content; "
                           "published versions are immutable", field="version",
                           fix=f"Give the changed {self.noun} a new `version:` label.")
        self.session.add(record)
        self.session.flush()
        self.audit.record(record.controller_id, actor=actor, action=f"{self.kind}.published",
                          target=f"{self.kind}:{record.id}",
                          data={"version": record.version, "content_hash": record.content_hash, **data})
        return Published(record, created=True)
