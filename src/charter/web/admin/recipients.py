"""Recipients: each recipient the policy in force names, with every field PIPL art. 23 asks to be told (name,
contact, purposes, how it processes, the categories), its role, region and agreement; and what the logs say of it:
disclosures reported (how many, to how many people, compelled, the latest) and the erasure and correction notices
sent to it, acknowledged or still waiting. Recipients found only in the logs (dropped from a later policy) are
listed after. Counts only: no person is shown, so no staff read is recorded."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from charter.core.errors import NotFound
from charter.disclosures.summary import disclosure_summary
from charter.policy.services import PolicyStore, as_policy
from charter.requests.notices import notice_summary
from charter.web.admin import labels
from charter.web.admin.session import Viewer
from charter.web.center.labels import RECIPIENT_ROLES
from charter.web.deps import PageSession
from charter.web.ui import render

router = APIRouter()


@router.get("/recipients")
def recipients(request: Request, db: PageSession, staff: Viewer) -> Response:
    try:
        policy = as_policy(PolicyStore(db).in_force(staff.controller_id))
    except NotFound:
        policy = None
    disclosures = disclosure_summary(db, staff.controller_id)
    notices = notice_summary(db, staff.controller_id)
    named = {r.id for r in policy.recipients} if policy else set()
    return render(request, "admin/recipients.html", {
        "policy": policy, "disclosures": disclosures, "notices": notices,
        "others": sorted((set(disclosures) | set(notices)) - named), "roles": RECIPIENT_ROLES,
        "actions": labels.NOTICE_ACTIONS,
    })
