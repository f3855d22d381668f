"""Outbox test helpers: a real SMTP server (DevMail), a sender with a clock the test moves, a tenant."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from sqlalchemy.orm import Session, sessionmaker

from charter.core.crypto import Keyring
from charter.devmail import DevMail
from charter.outbox import Channel, OutboxSender, RetryPolicy, SmtpTransport, WebhookTransport

MAIL_FROM = "Charter <no-reply@charter.test>"


@dataclass
class Clock:
    """The sender's clock. It starts a second ahead, so what the test enqueues after making it is due."""

    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1))

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def mail() -> Iterator[DevMail]:
    with DevMail(web_port=None) as server:
        yield server


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_sender(sessions: sessionmaker[Session], keyring: Keyring, smtp_port: int, clock: Clock, *,
                retry: RetryPolicy | None = None, **smtp: object) -> OutboxSender:
    """A sender whose email goes over real SMTP to 127.0.0.1:`smtp_port`."""
    email = SmtpTransport("127.0.0.1", smtp_port, mail_from=MAIL_FROM, timeout=5, **smtp)  # type: ignore[arg-type]
    webhook = WebhookTransport(timeout=5)
    return OutboxSender(sessions, keyring, {Channel.EMAIL: email, Channel.SMS: webhook, Channel.PUSH: webhook},
                        retry=retry or RetryPolicy(base=dt.timedelta(seconds=30), cap=dt.timedelta(minutes=10),
                                                   max_attempts=4),
                        clock=clock)
