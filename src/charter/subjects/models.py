from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from charter.core.db import Base, utcnow

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit key.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Subject(Base):
    __tablename__ = "subjects"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    controller_id: Mapped[str] = mapped_column(ForeignKey("controllers.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The latest day the person can have been born (a date of birth, or the young end of an age band),
    # encrypted: decisions need only "minor until", which is computed from it when a policy is in force.
    latest_birth_encrypted: Mapped[str | None] = mapped_column(Text, default=None)
    age_basis: Mapped[str | None] = mapped_column(String(16), default=None)
    """`birth_date` or `age_band`: which the host gave."""
    restricted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    restriction_reason: Mapped[str | None] = mapped_column(String(64), default=None)
    suspended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    suspension_reason: Mapped[str | None] = mapped_column(String(64), default=None)
    erased_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    """When an erasure request last reached Charter's own records for the person: decisions made before it and
    written to the log after it (the log is written in batches) are written without the person's id."""


class Identity(Base):
    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("controller_id", "kind", "index_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    controller_id: Mapped[str] = mapped_column(ForeignKey("controllers.id"), index=True)
    subject_id: Mapped[str] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    index_hash: Mapped[str] = mapped_column(String(64))
    value_encrypted: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SubjectChange(Base):
    """A change to what decisions know of a subject (restricted, suspended, age, identities moved).

    Appended while the controller row is locked by the audit log, so within one controller ids commit in order
    and an in-process decider can follow them with `id > last seen`.
    """

    __tablename__ = "subject_changes"
    __table_args__ = (Index("ix_subject_changes_controller_id_id", "controller_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    controller_id: Mapped[str] = mapped_column(ForeignKey("controllers.id"))
    subject_id: Mapped[str] = mapped_column(String(36))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
