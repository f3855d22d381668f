"""Periodic jobs: each runs when its interval has passed; a failing one is logged and tried again."""

from __future__ import annotations

import pytest

from charter.core.periodic import Job, PeriodicJobs


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_jobs_run_at_start_then_each_after_its_interval() -> None:
    clock, ran = Clock(), []
    jobs = PeriodicJobs([Job("fast", 10, lambda: ran.append("fast")), Job("slow", 60, lambda: ran.append("slow"))],
                        clock=clock)
    assert jobs.run_due() == ["fast", "slow"]
    assert jobs.run_due() == []
    clock.now += 11
    assert jobs.run_due() == ["fast"]
    clock.now += 60
    assert jobs.run_due() == ["fast", "slow"]
    assert jobs.runs == {"fast": 3, "slow": 2}


def test_a_failing_job_is_logged_and_does_not_stop_the_others(caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> None:
        raise RuntimeError("store unreachable")

    clock, ran = Clock(), []
    jobs = PeriodicJobs([Job("broken", 5, broken), Job("fine", 5, lambda: ran.append(1))], clock=clock)
    assert jobs.run_due() == ["broken", "fine"]
    assert ran == [1]
    assert "periodic job broken failed" in caplog.text


def test_the_thread_starts_and_stops() -> None:
    ran: list[int] = []
    jobs = PeriodicJobs([Job("once", 3600, lambda: ran.append(1))])
    jobs.start()
    assert jobs.is_running
    jobs.stop()
    assert not jobs.is_running
    assert ran == [1]
