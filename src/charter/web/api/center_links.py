"""Sign-in links into the privacy centre, minted by the host's server for its logged-in user.

`POST /v1/center/links {"subject_id": …, "lang": "en"}` with the secret key answers
`{"url": "https://charter…/center/lubpur/enter?token=…", "expires_at": …}`. The token is random (it carries no
personal data), lives five minutes and opens one session once.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from charter.audit.services import AuditLog
from charter.consent.schemas import SUBJECT_ID, Language
from charter.sessions.services import SessionStore
from charter.subjects.services import SubjectDirectory
from charter.web.center.person import FULL, LINK_KIND, LINK_LIFETIME
from charter.web.deps import DbSession, KeyringDep, SecretKey

router = APIRouter(prefix="/v1/center", tags=["privacy centre"])


class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject_id: Annotated[str, Field(pattern=SUBJECT_ID)]
    lang: Language | None = None


class LinkOut(BaseModel):
    url: str
    expires_at: str


@router.post("/links", status_code=201)
def mint_link(body: LinkIn, request: Request, session: DbSession, key: SecretKey, keyring: KeyringDep) -> LinkOut:
    """A single-use link that opens the privacy centre signed in as this person (the host vouches for them)."""
    cid = key.controller_id
    SubjectDirectory(session, keyring).get(cid, body.subject_id)
    opened = SessionStore(session).open(cid, kind=LINK_KIND, principal=f"subject:{body.subject_id}", stage=FULL,
                                        lifetime=LINK_LIFETIME, idle=LINK_LIFETIME)
    AuditLog(session).record(cid, actor=f"api_key:{key.key_id}", action="center.link_issued",
                             target=f"subject:{body.subject_id}")
    base = str(request.app.state.settings.base_url).rstrip("/")
    lang = f"&lang={body.lang}" if body.lang else ""
    return LinkOut(url=f"{base}/center/{cid}/enter?token={opened.token}{lang}",
                   expires_at=opened.record.expires_at.isoformat())
