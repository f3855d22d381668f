"""Who is signed in to the privacy centre: a person (a subject of this controller), after a one-time code or a
signed link from the host, or a guardian acting for a minor (PIPL art. 31). Every personal page takes
`PersonPage`; a pending re-consent is answered first."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from charter.audit.services import AuditLog
from charter.consent.guardians import Guardians
from charter.consent.services import ConsentLedger
from charter.consent.terms import PolicyTerms, offers_consent
from charter.core.errors import Forbidden, NotFound
from charter.decisions.decider import Decider
from charter.sessions.models import WebSession
from charter.sessions.services import SessionStore
from charter.subjects.age import is_minor
from charter.subjects.services import SubjectDirectory
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
CHOOSE = "choose"
"""A guardian proved their contact and looks after several minors: they pick whom to act for."""

SESSION_LIFETIME = dt.timedelta(hours=2)
IDLE_TIMEOUT = dt.timedelta(minutes=20)
PENDING_LIFETIME = dt.timedelta(minutes=10)
LINK_LIFETIME = dt.timedelta(minutes=5)


class AnswerFirst(SignInRequired):
    """A policy change needs the person's answer before any other personal page (LUB-CHANGE)."""


class GuardianRequired(Forbidden):
    """A minor under the policy's threshold tried something only their guardian may do (PIPL art. 31)."""

    code = "guardian"


@dataclass(frozen=True)
class Person:
    controller_id: str
    subject_id: str
    how: str
    """`center-code` or `center-link` (the person), `guardian-code` or `guardian-link` (their guardian)."""
    guardian_record_id: str | None = None
    """Set when a guardian acts for the minor: the guardian-consent record they signed in under."""
    verified_at: str = ""
    """When this sign-in was proved (ISO 8601): a guardian's consent records it."""
    is_minor: bool = False
    """The person is under the policy's age threshold (known from the age the host gave)."""

    @property
    def by_guardian(self) -> bool:
        return self.guardian_record_id is not None

    @property
    def needs_guardian(self) -> bool:
        """A minor signed in themselves: they may look, and say no, but their guardian must give consent and
        make requests for them."""
        return self.is_minor and not self.by_guardian

    @property
    def actor(self) -> str:
        return f"guardian:{self.guardian_record_id}" if self.by_guardian else f"subject:{self.subject_id}"

    def audit_read(self, db: Session, *, fields: Sequence[str]) -> None:
        """Personal data shown to the person (recorded as their own read, not a staff read) or to their guardian."""
        data = {"by": "guardian", "guardian_record": self.guardian_record_id} if self.by_guardian else {"by": "self"}
        AuditLog(db).record_read(self.controller_id, actor=self.actor, target=f"subject:{self.subject_id}",
                                 fields=fields, data=data)

    def refuse_if_minor(self, what: str) -> None:
        if self.needs_guardian:
            raise GuardianRequired(f"{what} needs the guardian of a person under the policy's age threshold",
                                   fix="Ask your parent or guardian to sign in as your guardian.")


def sign_in_path(controller_id: str) -> str:
    return f"/center/{controller_id}/sign-in"


def session_record(request: Request, db: Session, *, max_age: dt.timedelta) -> WebSession | None:
    token = read_token(request, COOKIE, max_age=int(max_age.total_seconds()))
    return SessionStore(db).find(token, kind=KIND) if token else None


def minor_status(request: Request, db: Session, controller_id: str, subject_id: str) -> bool | None:
    """True while the person is under the policy's age threshold, False once of age, None if no age is known."""
    decider: Decider = request.app.state.decider
    latest = SubjectDirectory(db, request.app.state.keyring).flags(controller_id, subject_id).latest_birth
    if latest is None:
        return None
    return is_minor(latest, decider.policy(controller_id).minor_threshold, dt.datetime.now(dt.UTC).date())


def guardian_may_act(request: Request, db: Session, controller_id: str, subject_id: str) -> bool:
    """A guardian acts for the person until they are known to be of age."""
    return minor_status(request, db, controller_id, subject_id) is not False


def signed_in(request: Request, db: Session, center: Center) -> Person | None:
    record = session_record(request, db, max_age=SESSION_LIFETIME)
    if record is None or record.stage != FULL or record.controller_id != center.controller_id:
        return None
    subject_id = record.principal.removeprefix("subject:")
    guardian = record.data.get("guardian")
    if guardian is not None:
        try:
            Guardians(db, request.app.state.keyring).get(center.controller_id, str(guardian), subject_id)
        except NotFound:  # the minor's data was erased since: the guardian has nothing left to act on
            SessionStore(db).close(record)
            return None
        if not guardian_may_act(request, db, center.controller_id, subject_id):
            SessionStore(db).close(record)
            return None
    SessionStore(db).touch(record)
    minor = guardian is None and minor_status(request, db, center.controller_id, subject_id) is True
    return Person(record.controller_id, subject_id, str(record.data.get("how", "")),
                  guardian_record_id=str(guardian) if guardian is not None else None,
                  verified_at=str(record.data.get("verified_at", "")), is_minor=minor)


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
    if not person.needs_guardian and pending_reconsent(db, request, person):  # a minor's guardian answers
        raise AnswerFirst(f"/center/{person.controller_id}/reconsent")
    return person


SignedIn = Annotated[Person, Depends(current_person)]
"""Signed in, re-consent not yet checked: only the re-consent page itself and sign-out."""
PersonPage = Annotated[Person, Depends(answered_person)]
"""Signed in, with nothing left to answer first: every other personal page."""
