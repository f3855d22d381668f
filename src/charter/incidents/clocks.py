"""The incident clocks: which reporting deadlines an incident starts and where each stands. Pure.

The clock starts when the controller became aware (`discovered_at`). CN: a significant incident is reported to
the provincial CAC within 4 hours, one at critical information infrastructure within 1 hour; EU: the supervisory
authority within 72 hours (GDPR art. 33); HK sets none.

>>> import datetime as dt
>>> facts = IncidentFacts(dt.datetime(2025, 1, 1, 8, tzinfo=dt.UTC), is_significant=True)
>>> [s.code for s in clock_states(facts, ["CN", "EU"], {}, dt.datetime(2025, 1, 1, 13, tzinfo=dt.UTC))
...  if s.status is ClockStatus.OVERDUE]
['significant_incident']
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from charter.core.i18n import Text
from charter.jurisdictions import IncidentClock, incident_clocks

__all__ = ["ClockState", "ClockStatus", "IncidentFacts", "applicable_clocks", "clock_states"]


class ClockStatus(StrEnum):
    RUNNING = "running"
    OVERDUE = "overdue"
    MET = "met"
    """Filed before the deadline."""
    LATE = "late"
    """Filed, after the deadline."""


@dataclass(frozen=True)
class IncidentFacts:
    discovered_at: dt.datetime
    is_significant: bool = False
    is_critical_infrastructure: bool = False


@dataclass(frozen=True)
class ClockState:
    code: str
    label: Text
    hours: int
    citation: str
    due_at: dt.datetime
    status: ClockStatus
    filed_at: dt.datetime | None = None

    def remaining(self, now: dt.datetime) -> dt.timedelta:
        return self.due_at - now


def _always(_facts: IncidentFacts) -> bool:
    return True


# Which facts start which clock; a clock not listed starts with every incident.
_STARTS: dict[str, Callable[[IncidentFacts], bool]] = {
    "significant_incident": lambda f: f.is_significant,
    "critical_infrastructure": lambda f: f.is_critical_infrastructure,
}


def applicable_clocks(facts: IncidentFacts, jurisdictions: Iterable[str]) -> list[IncidentClock]:
    return [c for c in incident_clocks(jurisdictions) if _STARTS.get(c.code, _always)(facts)]


def _utc(at: dt.datetime) -> dt.datetime:
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


def clock_states(facts: IncidentFacts, jurisdictions: Iterable[str], filed: Mapping[str, dt.datetime],
                 now: dt.datetime) -> list[ClockState]:
    """Each applicable clock, shortest first: its deadline and whether it is running, overdue, met or late."""
    start, states = _utc(facts.discovered_at), []
    for clock in applicable_clocks(facts, jurisdictions):
        due = start + dt.timedelta(hours=clock.hours)
        at = filed.get(clock.code)
        if at is not None:
            status = ClockStatus.MET if _utc(at) <= due else ClockStatus.LATE
        else:
            status = ClockStatus.OVERDUE if now > due else ClockStatus.RUNNING
        states.append(ClockState(clock.code, clock.label, clock.hours, clock.citation, due, status,
                                 _utc(at) if at else None))
    return states
