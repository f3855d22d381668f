"""`DevMail`: the SMTP server and the web inbox together, in background threads.

    with DevMail() as mail:                      # free ports on 127.0.0.1
        send_through_smtp("127.0.0.1", mail.smtp_port)
        [received] = mail.wait_for(1)
        print(received.subject, mail.inbox_url)
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn
from aiosmtpd.controller import Controller

from charter.devmail.smtp import PasswordCheck, StoringHandler
from charter.devmail.store import MailStore, ReceivedMail
from charter.devmail.web import create_inbox_app


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


class DevMail:
    """A local SMTP server that keeps what it receives, and (unless `web_port=None`) a web inbox to read it."""

    def __init__(self, *, host: str = "127.0.0.1", smtp_port: int = 0, web_port: int | None = 0,
                 store_path: Path | None = None, login: tuple[str, str] | None = None,
                 tls_context: ssl.SSLContext | None = None) -> None:
        self.host = host
        self.smtp_port = smtp_port or free_port(host)
        self.web_port = None if web_port is None else (web_port or free_port(host))
        self.store = MailStore(store_path)
        self.handler = StoringHandler(self.store)
        options: dict[str, Any] = {"enable_SMTPUTF8": True}
        if login is not None:
            options |= {"authenticator": PasswordCheck(*login), "auth_required": True,
                        "auth_require_tls": tls_context is not None}
        if tls_context is not None:
            options |= {"tls_context": tls_context, "require_starttls": True}
        self._smtp = Controller(self.handler, hostname=host, port=self.smtp_port, **options)
        self._web: uvicorn.Server | None = None
        self._web_thread: threading.Thread | None = None

    @property
    def inbox_url(self) -> str | None:
        return None if self.web_port is None else f"http://{self.host}:{self.web_port}"

    @property
    def messages(self) -> list[ReceivedMail]:
        """Everything received so far, oldest first."""
        return self.store.all()

    def wait_for(self, count: int = 1, timeout: float = 5.0) -> list[ReceivedMail]:
        return self.store.wait_for(count, timeout)

    def refuse(self, address: str, code: int = 550) -> None:
        """Answer RCPT TO for `address` with `code` (4xx: try later; 5xx: no such mailbox)."""
        self.handler.refusals[address.lower()] = code

    def accept(self, address: str) -> None:
        self.handler.refusals.pop(address.lower(), None)

    def clear(self) -> None:
        self.store.clear()

    def start(self) -> DevMail:
        self._smtp.start()
        if self.web_port is not None:
            app = create_inbox_app(self.store, smtp_port=self.smtp_port)
            self._web = uvicorn.Server(uvicorn.Config(app, host=self.host, port=self.web_port, log_level="warning"))
            self._web_thread = threading.Thread(target=self._web.run, name="devmail-web", daemon=True)
            self._web_thread.start()
            self._wait_for_web()
        return self

    def _wait_for_web(self) -> None:
        deadline = time.monotonic() + 15
        while self._web is not None and not self._web.started:
            if time.monotonic() > deadline or self._web_thread is None or not self._web_thread.is_alive():
                self.stop()
                raise RuntimeError(f"the web inbox did not start on {self.host}:{self.web_port}")
            time.sleep(0.02)

    def stop(self) -> None:
        if self._web is not None:
            self._web.should_exit = True
            if self._web_thread is not None:
                self._web_thread.join(timeout=10)
            self._web = self._web_thread = None
        if self._smtp.loop.is_running():
            self._smtp.stop()
        self.store.close()

    def __enter__(self) -> DevMail:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
