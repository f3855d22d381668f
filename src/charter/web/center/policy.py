"""The public part of the privacy centre: the policy in force, every earlier version, and what changed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from charter.policy.diff import Materiality, diff_policies
from charter.policy.models import PolicyVersionRecord
from charter.policy.render import clause_anchors
from charter.policy.services import PolicyStore, as_policy
from charter.web.center.context import Center, CenterPage
from charter.web.deps import PageSession
from charter.web.ui import N_, render

router = APIRouter()

FOR_PEOPLE: dict[str, str] = {
    Materiality.NEEDS_FRESH_CONSENT: N_("We will ask for your consent again"),
    Materiality.NOTICE_ONLY: N_("For your information"),
}


@router.get("/{controller}")
def current(request: Request, center: CenterPage) -> Response:
    return render(request, "center/policy.html", {
        "record": center.current, "policy": center.policy, "anchors": clause_anchors(center.policy),
        "is_current": True,
    })


@router.get("/{controller}/versions")
def versions(request: Request, center: CenterPage) -> Response:
    return render(request, "center/versions.html", {"versions": list(reversed(center.versions))})


@router.get("/{controller}/versions/{version}")
def version(request: Request, db: PageSession, center: CenterPage, version: str) -> Response:
    record = PolicyStore(db).get(center.controller_id, version)
    policy = as_policy(record)
    return render(request, "center/policy.html", {
        "record": record, "policy": policy, "anchors": clause_anchors(policy),
        "is_current": record.id == center.current.id,
    })


def _previous(center: Center, record: PolicyVersionRecord) -> PolicyVersionRecord:
    position = [v.id for v in center.versions].index(record.id)
    return center.versions[position - 1] if position > 0 else record


@router.get("/{controller}/changes")
def changes(request: Request, db: PageSession, center: CenterPage,
            old: Annotated[str | None, Query(alias="from")] = None,
            new: Annotated[str | None, Query(alias="to")] = None) -> Response:
    """What changed between two versions; by default, from the one before the current to the current."""
    store = PolicyStore(db)
    after = store.get(center.controller_id, new) if new else center.current
    before = store.get(center.controller_id, old) if old else _previous(center, after)
    result = diff_policies(as_policy(before), as_policy(after))
    return render(request, "center/changes.html", {
        "before": before, "after": after, "diff": result, "versions": center.versions, "labels": FOR_PEOPLE,
    })
