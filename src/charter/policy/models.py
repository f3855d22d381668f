from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from charter.core.db import Base
from charter.policy.versioned import VersionedDocument


class PolicyVersionRecord(VersionedDocument, Base):
    """A published policy version. Immutable: rows are inserted, never updated."""

    __tablename__ = "policy_versions"
    __table_args__ = (
        UniqueConstraint("controller_id", "version"),
        UniqueConstraint("controller_id", "content_hash"),
    )

    effective: Mapped[dt.date] = mapped_column(Date)
