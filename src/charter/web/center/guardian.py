"""A parent or guardian signs in to act for a minor (PIPL art. 31; LUB-MINORS): a code sent to the contact they
gave when they consented for the child (as recorded in the guardian-consent record), or the host's link made for
the guardian. Once in, they see the minor's data, change consents and make requests; everything they do is
recorded with them as the actor (`guardian:<record id>`), and a consent they give is a guardian consent.

The form answers the same whether or not the contact is a guardian's, as the person's sign-in does. A guardian of
several minors chooses whom to act for; a minor known to be of age is no longer listed.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from charter.consent.guardians import Guardians
from charter.ratelimit.services import Lockout
from charter.sessions.models import WebSession
from charter.web.center.context import Center, CenterPage
from charter.web.center.identity import masked_identity
from charter.web.center.person import CHOOSE, PENDING_LIFETIME, guardian_may_act, session_record, signed_in
from charter.web.center.sign_in import NOT_AN_ADDRESS, lockout_for, open_session, parse_identity, pending_code
from charter.web.deps import PageSession
from charter.web.ui import render

router = APIRouter()

Text = Annotated[str, Form()]


def _form(request: Request, *, error: str | None = None, locked: Lockout | None = None,
          status: int = 200) -> Response:
    return render(request, "center/guardian.html", {"error": error,
                                                    "locked_minutes": locked.minutes if locked else None},
                  status=429 if locked else status)


@router.get("/{controller}/guardian")
def guardian_form(request: Request, db: PageSession, center: CenterPage) -> Response:
    if signed_in(request, db, center) is not None:
        return RedirectResponse(f"/center/{center.controller_id}/data", status_code=303)
    return _form(request)


@router.post("/{controller}/guardian")
def send_guardian_code(request: Request, db: PageSession, center: CenterPage, identity: Text) -> Response:
    found = parse_identity(identity.strip())
    if found is None:
        return _form(request, error=NOT_AN_ADDRESS, status=400)
    kind, value = found
    cid = center.controller_id
    lockout = lockout_for(request, db, cid, f"guardian:{kind}:{value}")
    if lockout is not None:
        return _form(request, locked=lockout)
    records = [r for r in Guardians(db, request.app.state.keyring).for_contact(cid, value)
               if guardian_may_act(request, db, cid, str(r.subject_id))]
    wards = [[r.id, str(r.subject_id)] for r in records]
    return pending_code(request, db, cid, kind=kind, value=value,
                        principal=f"guardian:{records[0].id}" if records else None,
                        data={"wards": wards} if wards else None)


def _choosing(request: Request, db: Session, center: Center) -> WebSession | None:
    record = session_record(request, db, max_age=PENDING_LIFETIME)
    if record is None or record.stage != CHOOSE or record.controller_id != center.controller_id:
        return None
    return record


def _wards(record: WebSession) -> dict[str, str]:
    """Guardian record id → the minor's subject id, as proved at the code."""
    wards = record.data.get("wards")
    return {str(w[0]): str(w[1]) for w in wards} if isinstance(wards, list) else {}


@router.get("/{controller}/guardian/choose")
def choose_form(request: Request, db: PageSession, center: CenterPage) -> Response:
    record = _choosing(request, db, center)
    if record is None:
        return RedirectResponse(f"/center/{center.controller_id}/guardian", status_code=303)
    return render(request, "center/guardian_choose.html", {
        "wards": [(rid, masked_identity(request, db, center.controller_id, sid))
                  for rid, sid in _wards(record).items()]})


@router.post("/{controller}/guardian/choose")
def choose(request: Request, db: PageSession, center: CenterPage, ward: Text) -> Response:
    record = _choosing(request, db, center)
    wards = _wards(record) if record is not None else {}
    if record is None or ward not in wards:
        return RedirectResponse(f"/center/{center.controller_id}/guardian", status_code=303)
    return open_session(request, db, record, how="guardian-code", subject_id=wards[ward], guardian=ward)
