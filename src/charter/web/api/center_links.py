"""Sign-in links into the privacy centre, minted by the host's server for its logged-in user.

`POST /v1/center/links {"subject_id": …, "lang": "en"}` with the secret key answers
`{"url": "https://charter…/center/lubpur/enter?token=…", "expires_at": …}`. The token is random (it carries no
personal data) and lives five minutes. The page it leads to says whom it signs in as and has a button: only that
button (a form post) opens the session, once, so a link scanner or preview that fetches the URL signs nobody in.

With `"guardian": true` the link is for the logged-in parent or guardian of the minor `subject_id`: it opens the
centre for the guardian to act for the minor, under the newest guardian consent on record for them.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from charter.audit.services import AuditLog
from charter.consent.guardians import Guardians
from charter.consent.schemas import SUBJECT_ID, Language
from charter.core.crypto import Keyring
from charter.core.errors import Conflict
from charter.decisions.decider import Decider
from charter.sessions.services import SessionStore
from charter.subjects.age import is_minor
from charter.subjects.services import SubjectDirectory
from charter.web.center.person import FULL, LINK_KIND, LINK_LIFETIME
from charter.web.deps import DbSession, DeciderDep, KeyringDep, SecretKey

router = APIRouter(prefix="/v1/center", tags=["privacy centre"])


class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject_id: Annotated[str, Field(pattern=SUBJECT_ID)]
    lang: Language | None = None
    guardian: bool = False
    """The link is for the minor's guardian, who acts for them (PIPL art. 31)."""


class LinkOut(BaseModel):
    url: str
    expires_at: str


def _guardian_record(session: Session, keyring: Keyring, decider: Decider, controller_id: str, subject_id: str) -> str:
    """The guardian consent the guardian acts under: the newest on record, while the person is not known to be of
    age."""
    record = Guardians(session, keyring).latest_for(controller_id, subject_id)
    if record is None:
        raise Conflict("no guardian consent is on record for this person", field="guardian",
                       fix="Record the guardian's consent first (POST /v1/consents with action `guardian_grant` and "
                           "the `guardian` record), then make the link.")
    latest = SubjectDirectory(session, keyring).flags(controller_id, subject_id).latest_birth
    threshold = decider.policy(controller_id).minor_threshold
    if latest is not None and not is_minor(latest, threshold, dt.datetime.now(dt.UTC).date()):
        raise Conflict("the person is of age under the policy: a guardian no longer acts for them", field="guardian",
                       fix="Make the link for the person themselves (leave out `guardian`).")
    return record.id


@router.post("/links", status_code=201)
def mint_link(body: LinkIn, request: Request, *, session: DbSession, key: SecretKey, keyring: KeyringDep,
              decider: DeciderDep) -> LinkOut:
    """A single-use link into the privacy centre for this person, or for their guardian (`guardian: true`): the
    host vouches for whoever is logged in; the link's page asks them to click once to sign in."""
    cid = key.controller_id
    directory = SubjectDirectory(session, keyring)
    directory.get(cid, body.subject_id)
    data: dict[str, object] = {}
    if body.guardian:
        data["guardian"] = _guardian_record(session, keyring, decider, cid, body.subject_id)
    opened = SessionStore(session).open(cid, kind=LINK_KIND, principal=f"subject:{body.subject_id}", stage=FULL,
                                        lifetime=LINK_LIFETIME, idle=LINK_LIFETIME, data=data)
    AuditLog(session).record(cid, actor=f"api_key:{key.key_id}", action="center.link_issued",
                             target=f"subject:{body.subject_id}", data={"for": "guardian" if body.guardian else "self"})
    base = str(request.app.state.settings.base_url).rstrip("/")
    lang = f"&lang={body.lang}" if body.lang else ""
    return LinkOut(url=f"{base}/center/{cid}/enter?token={opened.token}{lang}",
                   expires_at=opened.record.expires_at.isoformat())
