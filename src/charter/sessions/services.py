"""Open, find, refresh and close sessions. A session ends at sign-out, after its idle time, or at its expiry."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from charter.core.db import utcnow
from charter.sessions.models import WebSession

# A page view refreshes `last_seen_at` at most this often, so browsing is not one write per click.
_TOUCH_EVERY = dt.timedelta(seconds=60)


@dataclass(frozen=True)
class OpenedSession:
    token: str
    """For the cookie only: the database keeps its hash."""
    record: WebSession


def token_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def aware(at: dt.datetime) -> dt.datetime:
    # SQLite hands datetimes back naive; they were written in UTC.
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


def is_live(record: WebSession, now: dt.datetime) -> bool:
    if record.closed_at is not None or aware(record.expires_at) <= now:
        return False
    return aware(record.last_seen_at) + dt.timedelta(seconds=record.idle_seconds) > now


class SessionStore:
    def __init__(self, session: Session) -> None:
        self.session = session

    def open(self, controller_id: str, *, kind: str, principal: str, stage: str, lifetime: dt.timedelta,
             idle: dt.timedelta, data: Mapping[str, object] | None = None) -> OpenedSession:
        token, now = secrets.token_urlsafe(32), utcnow()
        record = WebSession(id=token_id(token), controller_id=controller_id, kind=kind, principal=principal,
                            stage=stage, created_at=now, last_seen_at=now, expires_at=now + lifetime,
                            idle_seconds=int(idle.total_seconds()), data=dict(data or {}))
        self.session.add(record)
        self.session.flush()
        return OpenedSession(token, record)

    def find(self, token: str, *, kind: str) -> WebSession | None:
        """The live session for a token, or None when it is unknown, closed, idle too long or expired."""
        record = self.session.get(WebSession, token_id(token))
        if record is None or record.kind != kind or not is_live(record, utcnow()):
            return None
        return record

    def touch(self, record: WebSession) -> None:
        now = utcnow()
        if now - aware(record.last_seen_at) >= _TOUCH_EVERY:
            record.last_seen_at = now

    def close(self, record: WebSession) -> None:
        if record.closed_at is None:
            record.closed_at = utcnow()

    def close_all(self, controller_id: str, principal: str) -> int:
        """End every open session of one principal (deactivated account, reset second factor)."""
        result = self.session.execute(
            update(WebSession)
            .where(WebSession.controller_id == controller_id, WebSession.principal == principal,
                   WebSession.closed_at.is_(None))
            .values(closed_at=utcnow())
        )
        return int(getattr(result, "rowcount", 0) or 0)

    def open_count(self, controller_id: str, principal: str) -> int:
        now = utcnow()
        rows = self.session.execute(
            select(WebSession).where(WebSession.controller_id == controller_id, WebSession.principal == principal,
                                     WebSession.closed_at.is_(None))
        ).scalars()
        return sum(1 for r in rows if is_live(r, now))
