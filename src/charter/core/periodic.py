"""Periodic jobs in one daemon thread: what `charter serve` runs in-process (retention sweeps, notices that fall
due). Each job runs when its interval has passed; a failing job is logged and tried again next time; `stop()`
returns once the job running (if any) has finished.

    jobs = PeriodicJobs([Job("retention", 3600, sweep_everything)])
    jobs.start() … jobs.stop()
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

log = logging.getLogger(__name__)

__all__ = ["Job", "PeriodicJobs"]


@dataclass(frozen=True)
class Job:
    name: str
    interval: float
    """Seconds between the end of one run and the start of the next; the first run is at start."""
    run: Callable[[], object]


class PeriodicJobs:
    def __init__(self, jobs: Sequence[Job], *, clock: Callable[[], float] = time.monotonic) -> None:
        self.jobs = list(jobs)
        self.clock = clock
        self._due = dict.fromkeys((job.name for job in self.jobs), 0.0)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.runs: dict[str, int] = dict.fromkeys((job.name for job in self.jobs), 0)
        """How many times each job has run: for status pages and tests."""

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="charter-jobs", daemon=True)
            self._thread.start()

    @property
    def is_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def run_due(self) -> list[str]:
        """Run every job whose time has come, once; the names of those run."""
        ran = []
        for job in self.jobs:
            if self._stop.is_set() or self.clock() < self._due[job.name]:
                continue
            try:
                job.run()
            except Exception:
                # A database or store hiccup must not kill the thread; the next interval tries again.
                log.exception("periodic job %s failed", job.name)
            self.runs[job.name] += 1
            self._due[job.name] = self.clock() + job.interval
            ran.append(job.name)
        return ran

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.run_due()
            wait = min((due - self.clock() for due in self._due.values()), default=60.0)
            self._stop.wait(max(0.05, min(wait, 60.0)))
