"""The clocks an incident starts and where each stands: pure."""

from __future__ import annotations

import datetime as dt

from charter.incidents import ClockStatus, IncidentFacts, applicable_clocks, clock_states

FOUND = dt.datetime(2025, 11, 3, 9, 0, tzinfo=dt.UTC)


def test_cn_significant_is_four_hours_cii_one_and_gdpr_seventy_two() -> None:
    plain = IncidentFacts(FOUND)
    assert [c.code for c in applicable_clocks(plain, ["CN"])] == []
    assert [c.code for c in applicable_clocks(plain, ["HK"])] == []
    assert [(c.code, c.hours) for c in applicable_clocks(IncidentFacts(FOUND, is_significant=True), ["CN"])] == [
        ("significant_incident", 4)]
    both = IncidentFacts(FOUND, is_significant=True, is_critical_infrastructure=True)
    assert [(c.code, c.hours) for c in applicable_clocks(both, ["CN", "EU"])] == [
        ("critical_infrastructure", 1), ("significant_incident", 4), ("authority_notification", 72)]
    assert [c.hours for c in applicable_clocks(plain, ["EU"])] == [72]


def test_a_clock_runs_then_is_overdue_unless_filed_in_time() -> None:
    facts = IncidentFacts(FOUND, is_significant=True)
    [running, eu] = clock_states(facts, ["CN", "EU"], {}, FOUND + dt.timedelta(hours=3, minutes=59))
    assert (running.status, running.due_at, eu.status) == (ClockStatus.RUNNING, FOUND + dt.timedelta(hours=4),
                                                           ClockStatus.RUNNING)
    assert running.remaining(FOUND + dt.timedelta(hours=3)) == dt.timedelta(hours=1)
    [late_cn, eu] = clock_states(facts, ["CN", "EU"], {}, FOUND + dt.timedelta(hours=4, seconds=1))
    assert (late_cn.status, eu.status) == (ClockStatus.OVERDUE, ClockStatus.RUNNING)
    filed = {"significant_incident": FOUND + dt.timedelta(hours=2),
             "authority_notification": FOUND + dt.timedelta(hours=80)}
    [met, late] = clock_states(facts, ["CN", "EU"], filed, FOUND + dt.timedelta(days=9))
    assert (met.status, late.status) == (ClockStatus.MET, ClockStatus.LATE)


def test_a_naive_discovery_time_is_read_as_utc() -> None:
    [state] = clock_states(IncidentFacts(FOUND.replace(tzinfo=None)), ["EU"], {}, FOUND)
    assert state.due_at == FOUND + dt.timedelta(hours=72)
