"""The sender: claim due messages, hand each to its channel's transport, record the outcome.

It owns its transactions (one to claim a batch, one per settled attempt) and never holds one open across
network I/O. A crash between sending and settling leaves the message `sending` until its lease runs out, then
it is tried again: delivery is at least once.

    sender = OutboxSender(sessions, keyring, transports_from_settings(settings))
    report = sender.send_due()
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from charter.core.crypto import Keyring
from charter.core.db import transaction, utcnow
from charter.outbox.delivery import DeliveryError, PermanentFailure, RetryPolicy
from charter.outbox.interfaces import Outgoing, Transport
from charter.outbox.models import Channel, Status
from charter.outbox.services import DeliveryQueue


@dataclass
class DrainReport:
    claimed: int = 0
    outcomes: dict[Status, int] = field(default_factory=dict)

    def count(self, status: Status) -> int:
        return self.outcomes.get(status, 0)

    def add(self, other: DrainReport) -> None:
        self.claimed += other.claimed
        for status, n in other.outcomes.items():
            self.outcomes[status] = self.outcomes.get(status, 0) + n

    def __str__(self) -> str:
        parts = [f"{n} {s.value}" for s, n in sorted(self.outcomes.items())]
        return f"{self.claimed} attempted" + (f": {', '.join(parts)}" if parts else "")


class OutboxSender:
    def __init__(self, sessions: sessionmaker[Session], keyring: Keyring, transports: Mapping[Channel, Transport],
                 *, retry: RetryPolicy | None = None, lease: dt.timedelta = dt.timedelta(minutes=5),
                 clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.sessions = sessions
        self.keyring = keyring
        self.transports = transports
        self.retry = retry or RetryPolicy()
        self.lease = lease
        self.clock = clock

    def drain(self, limit: int = 100, *, controller_id: str | None = None) -> DrainReport:
        """One pass: up to `limit` due messages (of one controller, or all), each sent once, outcome recorded."""
        with transaction(self.sessions) as session:
            batch = DeliveryQueue(session, self.keyring).claim(self.clock(), limit, lease=self.lease,
                                                               retry=self.retry, controller_id=controller_id)
        report = DrainReport(claimed=len(batch.ready) + sum(batch.settled.values()), outcomes=dict(batch.settled))
        try:
            for message in batch.ready:
                error = self._attempt(message)
                with transaction(self.sessions) as session:
                    status = DeliveryQueue(session, self.keyring).settle(message.id, error, self.clock(), self.retry)
                report.outcomes[status] = report.outcomes.get(status, 0) + 1
        finally:
            for transport in set(self.transports.values()):
                transport.close()
        return report

    def send_due(self, *, batch: int = 100, controller_id: str | None = None) -> DrainReport:
        """Pass after pass until nothing is due (retries scheduled for later wait for a later call)."""
        total = DrainReport()
        while True:
            report = self.drain(batch, controller_id=controller_id)
            total.add(report)
            if report.claimed < batch:
                return total

    def _attempt(self, message: Outgoing) -> DeliveryError | None:
        transport = self.transports.get(message.channel)
        if transport is None:
            return PermanentFailure(f"no transport for the {message.channel.value} channel")
        try:
            transport.send(message)
        except DeliveryError as exc:
            return exc
        return None
