"""What the operations share: the controller's contact line, counting everyone a notice would reach, and the
delivery state of the messages a notice queued."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Protocol, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from charter.announcements import Recipient, policy_in_force
from charter.announcements.audience import LanguageOf
from charter.audit.services import AuditLog
from charter.core.crypto import Keyring
from charter.core.db import utcnow
from charter.core.errors import CharterError, NotFound
from charter.core.i18n import Text
from charter.incidents.elements import contact_text
from charter.outbox import Outbox
from charter.outbox.models import OutboxMessage, Status
from charter.policy.schema import PolicyVersion

__all__ = ["OperationService", "aware", "contact_of", "count_recipients", "delivery", "nonblank", "policy_of",
           "waiting"]


class Owned(Protocol):
    controller_id: str


RowT = TypeVar("RowT", bound=Owned)


class OperationService:
    """What each operation's service holds: the session, keyring, outbox, the people's languages and a clock."""

    def __init__(self, session: Session, keyring: Keyring, *, outbox: Outbox | None = None,
                 language_of: LanguageOf | None = None, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.session = session
        self.keyring = keyring
        self.outbox = outbox or Outbox(session, keyring)
        self.language_of = language_of
        self.clock = clock
        self.audit = AuditLog(session)

    def _owned(self, model: type[RowT], controller_id: str, row_id: str, noun: str) -> RowT:
        """The controller's own row, or "not found" (another controller's row is not found either)."""
        row = self.session.get(model, row_id)
        if row is None or row.controller_id != controller_id:
            raise NotFound(f"no {noun} {row_id!r}")
        return row


def aware(at: dt.datetime) -> dt.datetime:
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


def nonblank(value: str | None, field: str, limit: int = 10_000) -> str:
    text = (value or "").strip()
    if not text:
        raise CharterError(f"{field} is empty", field=field, fix="Give it: the record and the notices need it.")
    if len(text) > limit:
        raise CharterError(f"{field} is longer than {limit} characters", field=field)
    return text


def policy_of(session: Session, controller_id: str) -> PolicyVersion:
    policy = policy_in_force(session, controller_id)
    if policy is None:
        raise CharterError(f"controller {controller_id!r} has no policy in force",
                           fix="Publish the policy first (`charter policy publish`).")
    return policy


def contact_of(session: Session, controller_id: str) -> Text:
    return contact_text(policy_of(session, controller_id))


def count_recipients(recipients: Iterable[Recipient]) -> dict[str, int]:
    """A dry run of a fan-out: how many messages each channel would carry."""
    counts: dict[str, int] = {}
    for r in recipients:
        counts[r.channel.value] = counts.get(r.channel.value, 0) + 1
    return counts


def delivery(session: Session, controller_id: str, key_prefix: str) -> dict[str, int]:
    """Status → messages, for the messages a notice queued (their idempotency keys start with `key_prefix`)."""
    rows = session.execute(select(OutboxMessage.status, func.count()).where(
        OutboxMessage.controller_id == controller_id,
        OutboxMessage.idempotency_key.like(f"{key_prefix}:%")).group_by(OutboxMessage.status)).all()
    return {status: n for status, n in rows}  # noqa: C416 - rows are Row objects, not pairs


def waiting(counts: dict[str, int]) -> int:
    """Messages not yet delivered or given up on."""
    return counts.get(Status.QUEUED.value, 0) + counts.get(Status.SENDING.value, 0)
