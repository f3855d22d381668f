"""What we hold about you: each category the controller's data map stores, where (system, region), for which
purposes on which legal basis, and which recipients received what (the disclosure log), all in the policy's own
words. Opening it is recorded as the person's own read."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from charter.core.errors import NotFound
from charter.datamap.holdings import holdings
from charter.datamap.services import DataMapStore, as_datamap
from charter.disclosures.services import DisclosureLog
from charter.web.center.context import CenterPage
from charter.web.center.labels import LEGAL_BASES, RECIPIENT_ROLES
from charter.web.center.person import PersonPage
from charter.web.deps import PageSession
from charter.web.ui import render

router = APIRouter()


@router.get("/{controller}/data")
def held(request: Request, db: PageSession, center: CenterPage, person: PersonPage) -> Response:
    try:
        datamap = as_datamap(DataMapStore(db).current(center.controller_id))
    except NotFound:
        datamap = None
    disclosures = DisclosureLog(db).of_subject(center.controller_id, person.subject_id)
    person.audit_read(db, fields=["categories_held", "disclosures"])
    return render(request, "center/data.html", {
        "holdings": holdings(center.policy, datamap), "disclosures": disclosures,
        "bases": LEGAL_BASES, "roles": RECIPIENT_ROLES,
    })
