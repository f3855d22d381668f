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

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

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

    # The last grant per person and purpose, joined to each supersede: a re-grant is a grant with a later seq. One
    # hash join over the ledger (a correlated EXISTS per supersede costs a heap visit per event of the person).
    last_grant = (select(ConsentEvent.subject_id, ConsentEvent.purpose, func.max(ConsentEvent.seq).label("seq"))
                  .where(ConsentEvent.controller_id == controller_id, ConsentEvent.action.in_(_GRANTS),
                         *_period(ConsentEvent.at, None, until))
                  .group_by(ConsentEvent.subject_id, ConsentEvent.purpose).subquery("last_grant"))
    rows = session.execute(
        select(ConsentEvent.purpose, ConsentEvent.policy_version, func.count(),
               func.coalesce(func.sum(case((last_grant.c.seq > ConsentEvent.seq, 1), else_=0)), 0))
        .select_from(ConsentEvent)
        .outerjoin(last_grant, and_(last_grant.c.subject_id == ConsentEvent.subject_id,
                                    last_grant.c.purpose == ConsentEvent.purpose))
        .where(*in_period, ConsentEvent.action == EventAction.SUPERSEDE.value)
        .group_by(ConsentEvent.purpose, ConsentEvent.policy_version)
        .order_by(ConsentEvent.purpose, ConsentEvent.policy_version))
    out.reconsent.extend(Reconsent(pid, version, asked, int(again)) for pid, version, asked, again in rows)
    return out
