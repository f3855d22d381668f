"""A real SMTP server (aiosmtpd) on a free loopback port that keeps every message it receives."""

from __future__ import annotations

import email
import email.policy
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.live import free_port


class _Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        with self.box.lock:
            self.box.messages.append(msg)
        return "250 OK"


class Mailbox:
    def __init__(self, port: int) -> None:
        self.port = port
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()

    @classmethod
    @contextmanager
    def running(cls) -> Iterator[Mailbox]:
        box = cls(free_port())
        controller = Controller(_Handler(box), hostname="127.0.0.1", port=box.port)
        controller.start()
        try:
            yield box
        finally:
            controller.stop()

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]

    def wait_for(self, address: str, match: Callable[[EmailMessage], bool] = lambda _m: True,
                 timeout: float = 10) -> EmailMessage:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [m for m in self.to(address) if match(m)]
            if found:
                return found[-1]
            time.sleep(0.05)
        raise AssertionError(f"no matching mail for {address} within {timeout}s")


def text_of(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def html_of(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("html",))
    return str(part.get_content()) if part is not None else ""
