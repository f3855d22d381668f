"""Consent statistics per purpose for the admin console, counted by the database (GROUP BY over the ledger and the
projection; no row reaches Python):

- events in a period: grants (a guardian's included), refusals, withdrawals, expiries;
- granted now: the projection's current states that are granted and not past their validity;
- re-consent after a policy change that needed fresh consent: `asked` is the `supersede` events in the period (a
  granted consent the change set aside, one per person and purpose), `re-granted` those followed by a new grant
  of the same purpose by the same person before the period's end. Grouped by the policy version that asked.

A person whose data was erased keeps their events as anonymised tombstones: counted as events, never as a
re-grant (nothing links their tombstones any more).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, case, exists, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from charter.consent.models import ConsentEvent, ConsentState, ConsentStatus, EventAction

__all__ = ["ConsentStatistics", "PurposeCounts", "Reconsent", "consent_statistics"]

_GRANTS = (EventAction.GRANT.value, EventAction.GUARDIAN_GRANT.value)


@dataclass
class PurposeCounts:
    purpose: str
    grants: int = 0
    guardian_grants: int = 0
    """Of `grants`, those a guardian gave for a minor."""
    refusals: int = 0
    withdrawals: int = 0
    expiries: int = 0
    granted_now: int = 0


@dataclass(frozen=True)
class Reconsent:
    purpose: str
    policy_version: str
    """The version whose change needed fresh consent for the purpose."""
    asked: int
    regranted: int

    @property
    def rate(self) -> float:
        return self.regranted / self.asked if self.asked else 0.0


@dataclass(frozen=True)
class ConsentStatistics:
    since: dt.datetime | None
    until: dt.datetime | None
    purposes: dict[str, PurposeCounts] = field(default_factory=dict)
    reconsent: list[Reconsent] = field(default_factory=list)

    def counts(self, purpose: str) -> PurposeCounts:
        return self.purposes.get(purpose) or PurposeCounts(purpose)


def _period(column: InstrumentedAttribute[dt.datetime], since: dt.datetime | None,
            until: dt.datetime | None) -> list[ColumnElement[bool]]:
    return [*([column >= since] if since else []), *([column < until] if until else [])]


def consent_statistics(session: Session, controller_id: str, *, since: dt.datetime | None = None,
                       until: dt.datetime | None = None, now: dt.datetime) -> ConsentStatistics:
    """The statistics of one controller's ledger for events at `since` ≤ at < `until` (either end open)."""
    out = ConsentStatistics(since, until)
    in_period = [ConsentEvent.controller_id == controller_id, *_period(ConsentEvent.at, since, until)]

    def purpose(pid: str) -> PurposeCounts:
        return out.purposes.setdefault(pid, PurposeCounts(pid))

    events = session.execute(select(ConsentEvent.purpose, ConsentEvent.action, func.count())
                             .where(*in_period).group_by(ConsentEvent.purpose, ConsentEvent.action))
    for pid, action, count in events:
        counts = purpose(pid)
        if action in _GRANTS:
            counts.grants += count
            counts.guardian_grants += count if action == EventAction.GUARDIAN_GRANT.value else 0
        elif action == EventAction.REFUSE.value:
            counts.refusals += count
        elif action == EventAction.WITHDRAW.value:
            counts.withdrawals += count
        elif action == EventAction.EXPIRE.value:
            counts.expiries += count

    granted = session.execute(
        select(ConsentState.purpose, func.count())
        .where(ConsentState.controller_id == controller_id, ConsentState.status == ConsentStatus.GRANTED.value,
               or_(ConsentState.valid_until.is_(None), ConsentState.valid_until > now))
        .group_by(ConsentState.purpose))
    for pid, count in granted:
        purpose(pid).granted_now = count

    later = aliased(ConsentEvent)
    regranted = exists().where(
        later.controller_id == ConsentEvent.controller_id, later.subject_id == ConsentEvent.subject_id,
        later.purpose == ConsentEvent.purpose, later.seq > ConsentEvent.seq, later.action.in_(_GRANTS),
        *_period(later.at, None, until))
    rows = session.execute(
        select(ConsentEvent.purpose, ConsentEvent.policy_version, func.count(),
               func.coalesce(func.sum(case((regranted, 1), else_=0)), 0))
        .where(*in_period, ConsentEvent.action == EventAction.SUPERSEDE.value)
        .group_by(ConsentEvent.purpose, ConsentEvent.policy_version)
        .order_by(ConsentEvent.purpose, ConsentEvent.policy_version))
    out.reconsent.extend(Reconsent(pid, version, asked, int(again)) for pid, version, asked, again in rows)
    return out
