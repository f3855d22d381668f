"""Tasks that change only Charter's own database, run inside the transaction that marks them done (so they
happen exactly once): notifying recipients, restricting the subject, withdrawing consent, leaving consent
tombstones, explaining an automated decision, and correcting an identity in Charter's directory."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from charter.consent.models import ConsentStatus
from charter.consent.schemas import Channel, CollectionMethod, ConsentIn, EvidenceIn
from charter.consent.services import ConsentLedger
from charter.core.crypto import Keyring
from charter.core.db import utcnow
from charter.decisions.services import forget_subject, load_terms
from charter.disclosures.services import DisclosureLog
from charter.requests.automated import AutomatedDecisions
from charter.requests.models import DataRequest, HeldItem, RecipientNotice
from charter.requests.planning import Operation
from charter.requests.services import RequestService
from charter.subjects.services import SubjectDirectory

__all__ = ["INTERNAL", "ack_token"]

RUNNER_ACTOR = "request-runner"


def ack_token(keyring: Keyring, notice_key: str) -> str:
    """The token in a recipient's acknowledgement link: a keyed hash of the request and recipient, not guessable
    and holding nothing personal."""
    return hmac.new(keyring.index_key, f"recipient-ack\0{notice_key}".encode(), hashlib.sha256).hexdigest()


def notify_recipients(session: Session, keyring: Keyring, request: DataRequest,
        spec: Mapping[str, Any]) -> dict[str, Any]:
    """Tell every recipient the person's data was disclosed to (the disclosure log) to erase or correct it too."""
    if request.subject_id is None:
        return {"recipients": 0}
    action = str(spec.get("action", "erasure"))
    service = RequestService(session, keyring)
    recipients = DisclosureLog(session).recipients_of(request.controller_id, request.subject_id)
    policy = service.policy(request.controller_id) if recipients else None
    told = 0
    for recipient_id, categories in recipients:
        if _already_told(session, request.id, recipient_id):
            continue
        token = ack_token(keyring, f"{request.id}:{recipient_id}")
        session.add(RecipientNotice(controller_id=request.controller_id, request_id=request.id,
                                    recipient_id=recipient_id, action=action, categories=sorted(categories),
                                    token_hash=hashlib.sha256(token.encode()).hexdigest()))
        recipient = policy.recipient(recipient_id) if policy is not None else None
        if recipient is not None and recipient.contact and "@" in recipient.contact:
            service.outbox.enqueue(request.controller_id, channel="email", to=recipient.contact,
                                   template="recipient_notice", language="en" if request.language == "en" else "zh-CN",
                                   params={"reference": request.reference, "action": action,
                                           "categories": sorted(categories), "ack_token": token},
                                   idempotency_key=f"request:{request.id}:recipient:{recipient_id}",
                                   actor=RUNNER_ACTOR)
        told += 1
    session.flush()
    return {"recipients": told}


def _already_told(session: Session, request_id: str, recipient_id: str) -> bool:
    return session.execute(select(RecipientNotice.id).where(RecipientNotice.request_id == request_id,
                                                            RecipientNotice.recipient_id == recipient_id)).first() \
        is not None


def explain(session: Session, keyring: Keyring, request: DataRequest,
        spec: Mapping[str, Any]) -> dict[str, Any]:
    """Send the person a plain explanation of the automated decision they asked about."""
    decision_id = str(spec.get("decision_id", ""))
    params = AutomatedDecisions(session, keyring).explanation(request.controller_id, request.subject_id or "",
                                                              decision_id)
    RequestService(session, keyring).tell(request, "decision_explanation", params, actor=RUNNER_ACTOR)
    return {"decision_id": decision_id}


def withdraw(session: Session, keyring: Keyring, request: DataRequest,
        spec: Mapping[str, Any]) -> dict[str, Any]:
    """Withdraw consent for the purposes asked, through the ledger, effective in the next decision (PIPL art. 15).
    A purpose not granted now is left as it is: the ledger records only real changes."""
    if request.subject_id is None:
        return {"withdrawn": 0}
    ledger = ConsentLedger(session, keyring)
    granted = {s.purpose for s in ledger.states(request.controller_id, request.subject_id)
               if s.status == ConsentStatus.GRANTED.value}
    asked = [str(p) for p in spec.get("purposes", [])]
    items = [ConsentIn(subject_id=request.subject_id, purpose=p, action="withdraw",
                       notice=f"request:{request.reference}", method=CollectionMethod.SETTINGS, channel=Channel.API,
                       language=request.language, evidence=EvidenceIn(request_id=request.reference))
             for p in dict.fromkeys(asked) if p in granted]
    if items:
        terms = load_terms(session, request.controller_id, utcnow().date())
        ledger.record_many(request.controller_id, items, terms, actor=RUNNER_ACTOR)
    return {"withdrawn": len(items), "not_granted": len(set(asked)) - len(items)}


def restrict(session: Session, keyring: Keyring, request: DataRequest,
        spec: Mapping[str, Any]) -> dict[str, Any]:
    """Stop everything but storage and security (PIPL art. 47). After a cancellation only when something was
    held: what a retention rule keeps becomes restricted, and nothing else is left to restrict."""
    if request.subject_id is None:
        return {"restricted": False}
    if spec.get("only_if_held") and session.execute(
            select(HeldItem.id).where(HeldItem.request_id == request.id).limit(1)).first() is None:
        return {"restricted": False}
    reason = str(spec.get("reason") or "subject_request")
    SubjectDirectory(session, keyring).restrict(request.controller_id, request.subject_id, reason,
                                                actor=RUNNER_ACTOR)
    return {"restricted": True}


def tombstone_consent(session: Session, keyring: Keyring, request: DataRequest,
        spec: Mapping[str, Any]) -> dict[str, Any]:
    """Erasure in Charter's own records: the consent ledger keeps anonymised tombstones (the chain still
    verifies), and the decision log forgets whom its entries were about."""
    if request.subject_id is None:
        return {"consent_events": 0, "decisions": 0}
    events = ConsentLedger(session, keyring).erase_subject(request.controller_id, request.subject_id,
                                                           actor=RUNNER_ACTOR)
    return {"consent_events": events, "decisions": forget_subject(session, request.controller_id, request.subject_id)}


def correct_identity(session: Session, keyring: Keyring, request: DataRequest,
        spec: Mapping[str, Any]) -> dict[str, Any]:
    """After the stores hold the corrected value, Charter's directory knows the person by it (and no longer by the
    value it replaced), so the next request by the corrected phone or email finds them."""
    if request.subject_id is None:
        return {"replaced": 0}
    kind = str(spec["kind"])
    value = str(RequestService(session, keyring).params(request).get("value", ""))
    replaced = SubjectDirectory(session, keyring).replace_identities(request.controller_id, request.subject_id,
                                                                     kind, value, actor=RUNNER_ACTOR)
    return {"kind": kind, "replaced": replaced}


INTERNAL: dict[Operation, Callable[[Session, Keyring, DataRequest, Mapping[str, Any]], dict[str, Any]]] = {
    Operation.NOTIFY_RECIPIENTS: notify_recipients,
    Operation.EXPLAIN: explain,
    Operation.RESTRICT: restrict,
    Operation.WITHDRAW: withdraw,
    Operation.TOMBSTONE_CONSENT: tombstone_consent,
    Operation.CORRECT_IDENTITY: correct_identity,
}

