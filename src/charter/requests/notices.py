"""The notices erasure and rectification send to recipients (PIPL art. 47 and 46 reach what was shared), summed per
recipient and action for the admin console: sent, acknowledged, still waiting and since when. Counted by the
database. Reading only: notices are sent by the request runner and acknowledged through `StaffDesk.acknowledge`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from charter.requests.models import RecipientNotice

__all__ = ["NoticeSummary", "notice_summary"]


@dataclass(frozen=True)
class NoticeSummary:
    recipient_id: str
    action: str
    """`erasure` or `rectification`: what the recipient was asked to do."""
    sent: int
    acknowledged: int
    latest_sent_at: dt.datetime
    oldest_waiting_since: dt.datetime | None
    """When the oldest notice still unacknowledged was sent; None when every one is acknowledged."""

    @property
    def waiting(self) -> int:
        return self.sent - self.acknowledged


def notice_summary(session: Session, controller_id: str) -> dict[str, list[NoticeSummary]]:
    rows = session.execute(
        select(RecipientNotice.recipient_id, RecipientNotice.action, func.count(),
               func.count(RecipientNotice.acknowledged_at), func.max(RecipientNotice.sent_at),
               func.min(case((RecipientNotice.acknowledged_at.is_(None), RecipientNotice.sent_at))))
        .where(RecipientNotice.controller_id == controller_id)
        .group_by(RecipientNotice.recipient_id, RecipientNotice.action)
        .order_by(RecipientNotice.recipient_id, RecipientNotice.action))
    out: dict[str, list[NoticeSummary]] = {}
    for recipient, action, sent, acknowledged, latest, oldest in rows:
        out.setdefault(recipient, []).append(NoticeSummary(recipient, action, sent, acknowledged, latest, oldest))
    return out
