"""Cancelled accounts stop logging in: Lubpur's side of an account cancellation (LUB-CANCEL).

The person asks in Charter's privacy centre. Charter runs the request in order: it first tells the host to stop
the account's login, then erases or anonymises Lubpur's tables through the data map (the login records the
security purpose keeps stay, restricted). Lubpur hears of it two ways and does the same on both, idempotently:

- the login webhook, `POST /charter/account-closed` (`lubpur.web.charter_hooks`), signed with the key Charter
  issued when the webhook was set (`LUBPUR_CHARTER_LOGIN_WEBHOOK_KEY`). Charter waits for Lubpur's 2xx before
  it erases anything, so the account is never usable half-erased;
- `Client.account_closures(since=…)`, polled by the app's background loop (`ClosureWatch`), for a Lubpur set up
  without the webhook or one that was down when Charter called (Charter then retries the request; the poll
  closes the login meanwhile).

Closing a login: the account's status becomes "cancelled" and every session of it ends. The rows are Charter's
to erase; Lubpur does not delete them itself, so what the policy's retention rules keep is kept.
"""

from __future__ import annotations

import logging

import httpx
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from charter.sdk import CharterAPIError, Client
from lubpur.db import unit_of_work
from lubpur.models import User, WebSession

log = logging.getLogger(__name__)

CANCELLED = "cancelled"


def close_login(session: Session, subject_id: str) -> bool:
    """Stop the login of the account Charter knows as `subject_id`; whether Lubpur has such an account."""
    if not subject_id:
        return False
    user = session.scalars(select(User).where(User.charter_subject_id == subject_id)).first()
    if user is None:
        return False
    user.status = CANCELLED
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    session.flush()
    return True


class ClosureUnavailable(Exception):
    """Charter could not be asked for closures now; the next pass asks again from the same point."""


class ClosureWatch:
    """Polls `Client.account_closures` from the last approval seen and closes each account's login."""

    def __init__(self, sessions: sessionmaker[Session], client: Client) -> None:
        self.sessions = sessions
        self.client = client
        # Kept in memory: after a restart every closure is read again, and closing twice does no harm.
        self.since: str | None = None

    def poll(self) -> int:
        """One pass; returns how many Lubpur accounts it closed (or found closed). Raises `ClosureUnavailable`."""
        try:
            closures = self.client.account_closures(since=self.since)
        except httpx.HTTPError as exc:
            raise ClosureUnavailable(str(exc)) from exc
        except CharterAPIError as exc:
            raise ClosureUnavailable(str(exc)) from exc
        found = 0
        for closure in closures:
            with unit_of_work(self.sessions) as session:
                found += close_login(session, closure.subject_id)
            self.since = closure.since
        if found:
            log.info("closed the login of %d cancelled account(s)", found)
        return found
