from __future__ import annotations

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from charter.core.db import Base
from charter.policy.versioned import VersionedDocument


class DataMapVersionRecord(VersionedDocument, Base):
    """A published data map version. Immutable: rows are inserted, never updated, so a request can name the exact
    map it ran against."""

    __tablename__ = "datamap_versions"
    __table_args__ = (
        UniqueConstraint("controller_id", "version"),
        UniqueConstraint("controller_id", "content_hash"),
    )

    policy_version: Mapped[str] = mapped_column(String(64))
    """The policy version the map was checked against when it was published."""
