"""The in-process sender `charter serve` runs: a daemon thread draining the outbox every few seconds.

Woken early when a request commits a new message, so a verification code leaves at once.
"""

from __future__ import annotations

import logging
import threading

from charter.outbox.sender import OutboxSender

log = logging.getLogger(__name__)


class BackgroundSender:
    def __init__(self, sender: OutboxSender, *, interval: float = 2.0) -> None:
        self.sender = sender
        self.interval = interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="charter-outbox", daemon=True)
            self._thread.start()

    @property
    def is_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                report = self.sender.send_due()
                if report.claimed:
                    log.info("outbox: %s", report)
            except Exception:
                # A database or transport hiccup must not kill the thread; the next pass tries again.
                log.exception("outbox pass failed")
            self._wake.wait(self.interval)
            self._wake.clear()
