"""Sliding-window attempt limits: at most `attempts` counted hits per `window`, then locked until one ages out."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from charter.core.crypto import Keyring
from charter.core.db import utcnow
from charter.ratelimit.models import RateLimitHit


@dataclass(frozen=True)
class Limit:
    name: str
    attempts: int
    window: dt.timedelta


@dataclass(frozen=True)
class Lockout:
    retry_after: dt.timedelta

    @property
    def minutes(self) -> int:
        return max(1, -(-int(self.retry_after.total_seconds()) // 60))


def _aware(at: dt.datetime) -> dt.datetime:
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


class RateLimiter:
    """Keys (an email, an address) are stored only as keyed hashes."""

    def __init__(self, session: Session, keyring: Keyring) -> None:
        self.session = session
        self.keyring = keyring

    def _bucket(self, limit: Limit, key: str) -> str:
        return f"{limit.name}:{self.keyring.blind_index('ratelimit:' + limit.name, key)}"

    def lockout(self, limit: Limit, key: str) -> Lockout | None:
        """None while attempts remain; otherwise how long until the oldest counted attempt ages out."""
        since = utcnow() - limit.window
        bucket = self._bucket(limit, key)
        count, oldest = self.session.execute(
            select(func.count(), func.min(RateLimitHit.at))
            .where(RateLimitHit.bucket == bucket, RateLimitHit.at > since)
        ).one()
        if count < limit.attempts or oldest is None:
            return None
        return Lockout(_aware(oldest) + limit.window - utcnow())

    def hit(self, limit: Limit, key: str) -> Lockout | None:
        """Count one attempt (dropping ones too old to matter) and say whether the key is now locked."""
        bucket, now = self._bucket(limit, key), utcnow()
        self.session.execute(delete(RateLimitHit).where(RateLimitHit.bucket == bucket,
                                                        RateLimitHit.at <= now - limit.window))
        self.session.add(RateLimitHit(bucket=bucket, at=now))
        self.session.flush()
        return self.lockout(limit, key)

    def clear(self, limit: Limit, key: str) -> None:
        self.session.execute(delete(RateLimitHit).where(RateLimitHit.bucket == self._bucket(limit, key)))
