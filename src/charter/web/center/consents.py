"""Your consents: every purpose a person can consent to, its state and history, separate consents shown apart
with the recipient's details (PIPL art. 23); give or withdraw each one; download the receipt of any event.

A minor under the policy's threshold may withdraw but not give consent: their guardian gives it, signed in as
the guardian, and what the guardian gives is recorded as a guardian consent (`guardian_grant`) with its record."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from charter.consent.guardians import Guardians, parse_contact
from charter.consent.schemas import Channel, CollectionMethod, ConsentIn, EvidenceIn, GuardianIn, VerificationMethod
from charter.consent.services import ConsentLedger
from charter.consent.terms import offers_consent
from charter.core.errors import CharterError, NotFound
from charter.policy.schema import ConsentKind, Purpose
from charter.policy.services import PolicyStore
from charter.subjects.normalise import IdentityKind
from charter.web.api.consents import policy_finder
from charter.web.center.context import CenterPage
from charter.web.center.labels import CONSENT_ACTIONS, CONSENT_STATES, RECIPIENT_ROLES
from charter.web.center.person import Person, PersonPage, terms_of
from charter.web.deps import PageSession
from charter.web.ui import page_lang, render

router = APIRouter()

ACTIONS = ("grant", "withdraw", "refuse")


def _offered(request: Request, controller_id: str) -> list[Purpose]:
    return [p for p in terms_of(request, controller_id).in_force.purposes if offers_consent(p)]


@router.get("/{controller}/consents")
def consents(request: Request, db: PageSession, center: CenterPage, person: PersonPage) -> Response:
    ledger = ConsentLedger(db, request.app.state.keyring)
    states = {s.purpose: s for s in ledger.states(center.controller_id, person.subject_id)}
    history = ledger.history(center.controller_id, person.subject_id)
    offered = _offered(request, center.controller_id)
    person.audit_read(db, fields=["consents"])
    return render(request, "center/consents.html", {
        "general": [p for p in offered if p.consent is not ConsentKind.SEPARATE],
        "separate": [p for p in offered if p.consent is ConsentKind.SEPARATE],
        "states": states, "history": history, "state_labels": CONSENT_STATES, "action_labels": CONSENT_ACTIONS,
        "roles": RECIPIENT_ROLES, "recipients_of": {p.id: [r for r in center.policy.recipients if p.id in r.purposes]
                                                    for p in offered},
    })


def _guardian_record(request: Request, db: Session, person: Person, rules_version: str) -> GuardianIn:
    """The guardian record a consent the signed-in guardian gives carries: who they are (the record they signed in
    under), how they proved it now (a code to their contact; through the host's link, as first verified)."""
    guardians = Guardians(db, request.app.state.keyring)
    record = guardians.get(person.controller_id, str(person.guardian_record_id), person.subject_id)
    if person.how == "guardian-code":
        found = parse_contact(guardians.details(record).contact)
        method = VerificationMethod.EMAIL_CODE if found and found[0] == IdentityKind.EMAIL else \
            VerificationMethod.SMS_CODE
        verified_at = dt.datetime.fromisoformat(person.verified_at)
    else:
        method, verified_at = VerificationMethod(record.verification_method), record.verified_at
    return guardians.consent_record(record, method=method, verified_at=verified_at, rules_version=rules_version)


def record_choice(request: Request, db: Session, person: Person, choices: dict[str, str], *, notice: str) -> None:
    """Append the person's answers (purpose → grant/refuse/withdraw) to the ledger in one transaction. A guardian's
    "yes" is a guardian consent with its guardian record; every answer has the guardian as its actor."""
    if any(action == "grant" for action in choices.values()):
        person.refuse_if_minor("giving consent")
    terms = terms_of(request, person.controller_id)
    evidence = EvidenceIn(ip=request.client.host if request.client else None,
                          user_agent=(request.headers.get("user-agent") or "")[:500] or None)
    guardian = _guardian_record(request, db, person, terms.current.version) if person.by_guardian else None
    items = [ConsentIn(subject_id=person.subject_id, purpose=purpose,
                       action="guardian_grant" if guardian is not None and action == "grant" else action,
                       guardian=guardian if action == "grant" else None,
                       notice=notice, language=page_lang(request).value, method=CollectionMethod.SETTINGS,
                       channel=Channel.WEB, evidence=evidence) for purpose, action in choices.items()]
    ConsentLedger(db, request.app.state.keyring).record_many(person.controller_id, items, terms, actor=person.actor)


@router.post("/{controller}/consents/{purpose}")
def change(request: Request, *, db: PageSession, center: CenterPage, person: PersonPage, purpose: str,
           action: Annotated[str, Form()]) -> Response:
    if action not in ACTIONS or purpose not in {p.id for p in _offered(request, center.controller_id)}:
        raise CharterError("choose give or withdraw for a purpose of this policy", field="action")
    record_choice(request, db, person, {purpose: action}, notice="center:consents")
    return RedirectResponse(f"/center/{center.controller_id}/consents?changed={purpose}", status_code=303)


@router.get("/{controller}/consents/receipt/{record_id}")
def receipt(request: Request, db: PageSession, center: CenterPage, person: PersonPage, record_id: str) -> Response:
    ledger = ConsentLedger(db, request.app.state.keyring)
    if ledger.event(center.controller_id, record_id).subject_id != person.subject_id:
        raise NotFound("no such consent record", field="record_id")
    found = ledger.receipt(center.controller_id, record_id, policy_finder(PolicyStore(db), center.controller_id))
    person.audit_read(db, fields=["consent_receipt"])
    return Response(json.dumps(found, ensure_ascii=False, indent=2), media_type="application/json",
                    headers={"Content-Disposition": f'attachment; filename="consent-receipt-{record_id}.json"',
                             "Cache-Control": "no-store"})
