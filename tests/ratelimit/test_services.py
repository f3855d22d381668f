from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from charter.core.crypto import Keyring
from charter.ratelimit.models import RateLimitHit
from charter.ratelimit.services import Limit, RateLimiter

LIMIT = Limit("test-limit", attempts=3, window=dt.timedelta(minutes=10))


def test_locks_after_the_allowed_attempts_until_the_oldest_ages_out(sessions: sessionmaker[Session],
                                                                   keyring: Keyring) -> None:
    key = f"{uuid.uuid4()}@example.com"
    with sessions() as s, s.begin():
        limiter = RateLimiter(s, keyring)
        assert limiter.lockout(LIMIT, key) is None
        assert [limiter.hit(LIMIT, key) is None for _ in range(3)] == [True, True, False]
        lockout = limiter.lockout(LIMIT, key)
        assert lockout is not None
        assert lockout.minutes == 10
        assert limiter.lockout(LIMIT, "someone else") is None
        s.execute(update(RateLimitHit).where(RateLimitHit.bucket.like("test-limit:%"))
                  .values(at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=11)))
        assert limiter.lockout(LIMIT, key) is None


def test_clear_forgets_and_keys_are_stored_only_as_keyed_hashes(sessions: sessionmaker[Session],
                                                              keyring: Keyring) -> None:
    key = f"{uuid.uuid4()}@example.com"
    with sessions() as s, s.begin():
        limiter = RateLimiter(s, keyring)
        limiter.hit(LIMIT, key)
        buckets = list(s.execute(select(RateLimitHit.bucket)).scalars())
        assert not any(key in b for b in buckets)
        limiter.clear(LIMIT, key)
        assert limiter.hit(LIMIT, key) is None
        assert limiter.hit(LIMIT, key) is None
