from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from charter.core.db import Base, utcnow


class RateLimitHit(Base):
    """One counted attempt. Buckets can span controllers (one address trying many), so no controller column."""

    __tablename__ = "rate_limit_hits"
    __table_args__ = (Index("ix_rate_limit_hits_bucket_at", "bucket", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    bucket: Mapped[str] = mapped_column(String(120))
    """`limit-name:HMAC(key)`: never the email or address itself."""
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
