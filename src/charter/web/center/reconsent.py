"""After a policy change that needs fresh consent, the person answers for each new or changed purpose, one by one,
before any other personal page opens (LUB-CHANGE). Every answer, yes or no, is recorded in the ledger."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from charter.web.center.consents import record_choice
from charter.web.center.context import CenterPage
from charter.web.center.person import SignedIn, pending_reconsent, terms_of
from charter.web.deps import PageSession
from charter.web.ui import N_, render

router = APIRouter()

ANSWER_EACH = N_("Answer yes or no for each purpose.")


def _page(request: Request, purposes: list[str], controller_id: str, *, error: str | None = None) -> Response:
    terms = terms_of(request, controller_id)
    return render(request, "center/reconsent.html", {
        "purposes": [terms.purposes[p] for p in purposes], "error": error,
    }, status=400 if error else 200)


@router.get("/{controller}/reconsent")
def ask(request: Request, db: PageSession, center: CenterPage, person: SignedIn) -> Response:
    pending = pending_reconsent(db, request, person)
    if not pending:
        return RedirectResponse(f"/center/{center.controller_id}/data", status_code=303)
    return _page(request, pending, center.controller_id)


@router.post("/{controller}/reconsent")
async def answer(request: Request, db: PageSession, center: CenterPage, person: SignedIn) -> Response:
    pending = pending_reconsent(db, request, person)
    form = await request.form()
    choices = {p: str(form.get(f"answer-{p}", "")) for p in pending}
    if any(v not in ("grant", "refuse") for v in choices.values()):
        return _page(request, pending, center.controller_id, error=ANSWER_EACH)
    if choices:
        record_choice(request, db, person, choices, notice=f"center:reconsent:{center.current.version}")
    return RedirectResponse(f"/center/{center.controller_id}/data", status_code=303)
