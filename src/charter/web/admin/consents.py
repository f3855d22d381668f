"""Consent statistics per purpose: grants, refusals and withdrawals in a period, how many consents stand granted
now, and how many people re-granted after a policy change that needed fresh consent (re-granted / asked).
Counted by the database over the ledger and its projection (`charter.consent.stats`); the period is whole UTC
days, both ends included. Counts only: no staff read is recorded."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from charter.consent.stats import consent_statistics
from charter.consent.terms import offers_consent
from charter.core.db import utcnow
from charter.core.errors import NotFound
from charter.policy.services import PolicyStore, as_policy
from charter.web.admin.session import Viewer
from charter.web.deps import PageSession
from charter.web.ui import N_, render

router = APIRouter()

BACKWARDS = N_("The period ends before it starts. Put the earlier date first.")


def _start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), dt.UTC)


@router.get("/consents")
def statistics(request: Request, db: PageSession, staff: Viewer,
               since: Annotated[dt.date | None, Query(alias="from")] = None,
               until: Annotated[dt.date | None, Query(alias="to")] = None) -> Response:
    error = BACKWARDS if since and until and until < since else None
    now = utcnow()
    stats = consent_statistics(db, staff.controller_id, since=_start(since) if since and not error else None,
                               until=_start(until + dt.timedelta(days=1)) if until and not error else None, now=now)
    try:
        policy = as_policy(PolicyStore(db).in_force(staff.controller_id))
    except NotFound:
        policy = None
    offered = [p.id for p in policy.purposes if offers_consent(p)] if policy else []
    today = now.date()
    return render(request, "admin/consents.html", {
        "stats": stats, "policy": policy, "rows": offered + sorted(set(stats.purposes) - set(offered)),
        "since": since.isoformat() if since else "", "until": until.isoformat() if until else "", "error": error,
        "presets": [(N_("Last 30 days"), (today - dt.timedelta(days=29)).isoformat(), today.isoformat()),
                    (N_("Last 12 months"), (today - dt.timedelta(days=364)).isoformat(), today.isoformat()),
                    (N_("All time"), "", "")],
    }, status=400 if error else 200)
