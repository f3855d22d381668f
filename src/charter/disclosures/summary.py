"""What the disclosure log says per recipient, for the admin console's recipients view: how many disclosures, to
how many people, how many compelled by law, the first and the latest. Counted by the database; no row, and so no
person, reaches the page."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from charter.disclosures.models import Disclosure

__all__ = ["DisclosureSummary", "disclosure_summary"]


@dataclass(frozen=True)
class DisclosureSummary:
    recipient_id: str
    disclosures: int
    people: int
    compelled: int
    first_at: dt.datetime
    latest_at: dt.datetime


def disclosure_summary(session: Session, controller_id: str) -> dict[str, DisclosureSummary]:
    rows = session.execute(
        select(Disclosure.recipient_id, func.count(), func.count(func.distinct(Disclosure.subject_id)),
               func.coalesce(func.sum(case((Disclosure.is_compelled, 1), else_=0)), 0),
               func.min(Disclosure.disclosed_at), func.max(Disclosure.disclosed_at))
        .where(Disclosure.controller_id == controller_id).group_by(Disclosure.recipient_id))
    return {r: DisclosureSummary(r, n, people, int(compelled), first, latest)
            for r, n, people, compelled, first, latest in rows}
