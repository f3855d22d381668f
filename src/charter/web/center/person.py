"""Who is signed in to the privacy centre: a person (a subject of this controller), after a one-time code or a
signed link from the host. Every personal page takes `PersonPage`; a pending re-consent is answered first."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from charter.audit.services import AuditLog
from charter.consent.services import ConsentLedger
from charter.consent.terms import PolicyTerms, offers_consent
from charter.decisions.decider import Decider
from charter.sessions.models import WebSession
from charter.sessions.services import SessionStore
from charter.web.center.context import Center, CenterPage
from charter.web.deps import PageSession
from charter.web.ui import SignInRequired, page_context
from charter.web.ui.cookies import read_token, session_cookie

COOKIE = session_cookie("charter_person", "/center")
KIND = "person"
LINK_KIND = "center-link"
"""A sign-in link the host minted for its logged-in user: opened once, within `LINK_LIFETIME`."""
FULL = "full"
NEEDS_CODE = "code"

SESSION_LIFETIME = dt.timedelta(hours=2)
IDLE_TIMEOUT = dt.timedelta(minutes=20)
PENDING_LIFETIME = dt.timedelta(minutes=10)
LINK_LIFETIME = dt.timedelta(minutes=5)


class AnswerFirst(SignInRequired):
    """A policy change needs the person's answer before any other personal page (LUB-CHANGE)."""


@dataclass(frozen=True)
class Person:
    controller_id: str
    subject_id: str
    how: str
    """`center-code` or `center-link`: how the person proved who they are."""

    @property
    def actor(self) -> str:
        return f"subject:{self.subject_id}"

    def audit_read(self, db: Session, *, fields: Sequence[str]) -> None:
        """The person was shown their own personal data: recorded as their read, not a staff read."""
        AuditLog(db).record_read(self.controller_id, actor=self.actor, target=f"subject:{self.subject_id}",
                                 fields=fields, data={"by": "self"})


def sign_in_path(controller_id: str) -> str:
    return f"/center/{controller_id}/sign-in"


def session_record(request: Request, db: Session, *, max_age: dt.timedelta) -> WebSession | None:
    token = read_token(request, COOKIE, max_age=int(max_age.total_seconds()))
    return SessionStore(db).find(token, kind=KIND) if token else None


def signed_in(request: Request, db: Session, center: Center) -> Person | None:
    record = session_record(request, db, max_age=SESSION_LIFETIME)
    if record is None or record.stage != FULL or record.controller_id != center.controller_id:
        return None
    SessionStore(db).touch(record)
    return Person(record.controller_id, record.principal.removeprefix("subject:"), str(record.data.get("how", "")))


def terms_of(request: Request, controller_id: str) -> PolicyTerms:
    decider: Decider = request.app.state.decider
    return decider.policy(controller_id).terms


def pending_reconsent(db: Session, request: Request, person: Person) -> list[str]:
    """Purposes a policy change asked fresh consent for that this person has not answered since."""
    terms = terms_of(request, person.controller_id)
    states = {s.purpose: s for s in ConsentLedger(db, request.app.state.keyring).states(person.controller_id,
                                                                                       person.subject_id)}
    pending = []
    for purpose_id, needed in terms.required_ordinal.items():
        purpose = terms.purposes.get(purpose_id)
        if purpose is None or not offers_consent(purpose):
            continue
        state = states.get(purpose_id)
        if state is None or terms.ordinal_of(state.policy_hash) < needed:
            pending.append(purpose_id)
    return sorted(pending)


def current_person(request: Request, db: PageSession, center: CenterPage) -> Person:
    person = signed_in(request, db, center)
    if person is None:
        raise SignInRequired(sign_in_path(center.controller_id))
    page_context(request).update(person=person)
    return person


def answered_person(request: Request, db: PageSession, person: Annotated[Person, Depends(current_person)]) -> Person:
    if pending_reconsent(db, request, person):
        raise AnswerFirst(f"/center/{person.controller_id}/reconsent")
    return person


SignedIn = Annotated[Person, Depends(current_person)]
"""Signed in, re-consent not yet checked: only the re-consent page itself and sign-out."""
PersonPage = Annotated[Person, Depends(answered_person)]
"""Signed in, with nothing left to answer first: every other personal page."""
