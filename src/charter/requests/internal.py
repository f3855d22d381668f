"""Tasks that change only Charter's own database, run inside the transaction that marks them done (so they
happen exactly once): notifying recipients, restricting the subject, withdrawing consent, leaving consent
tombstones, and explaining an automated decision."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from charter.core.crypto import Keyring
from charter.disclosures.services import DisclosureLog
from charter.requests.automated import AutomatedDecisions
from charter.requests.models import DataRequest, RecipientNotice, RequestTask
from charter.requests.planning import Operation
from charter.requests.services import RequestService

__all__ = ["INTERNAL", "ack_token"]

RUNNER_ACTOR = "request-runner"


def ack_token(keyring: Keyring, notice_key: str) -> str:
    """The token in a recipient's acknowledgement link: a keyed hash of the request and recipient, not guessable
    and holding nothing personal."""
    return hmac.new(keyring.index_key, f"recipient-ack\0{notice_key}".encode(), hashlib.sha256).hexdigest()


def notify_recipients(session: Session, keyring: Keyring, request: DataRequest, task: RequestTask) -> dict[str, Any]:
    """Tell every recipient the person's data was disclosed to (the disclosure log) to erase or correct it too."""
    if request.subject_id is None:
        return {"recipients": 0}
    action = str(task.spec.get("action", "erasure"))
    service = RequestService(session, keyring)
    policy = service.policy(request.controller_id)
    told = 0
    for recipient_id, categories in DisclosureLog(session).recipients_of(request.controller_id, request.subject_id):
        if _already_told(session, request.id, recipient_id):
            continue
        token = ack_token(keyring, f"{request.id}:{recipient_id}")
        session.add(RecipientNotice(controller_id=request.controller_id, request_id=request.id,
                                    recipient_id=recipient_id, action=action, categories=sorted(categories),
                                    token_hash=hashlib.sha256(token.encode()).hexdigest()))
        recipient = policy.recipient(recipient_id)
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


def explain(session: Session, keyring: Keyring, request: DataRequest, task: RequestTask) -> dict[str, Any]:
    """Send the person a plain explanation of the automated decision they asked about."""
    decision_id = str(task.spec.get("decision_id", ""))
    params = AutomatedDecisions(session, keyring).explanation(request.controller_id, request.subject_id or "",
                                                              decision_id)
    RequestService(session, keyring).tell(request, "decision_explanation", params, actor=RUNNER_ACTOR)
    return {"decision_id": decision_id}


def not_yet(session: Session, keyring: Keyring, request: DataRequest, task: RequestTask) -> dict[str, Any]:
    return {"skipped": True}


INTERNAL: dict[Operation, Callable[[Session, Keyring, DataRequest, RequestTask], dict[str, Any]]] = {
    Operation.NOTIFY_RECIPIENTS: notify_recipients,
    Operation.EXPLAIN: explain,
    Operation.RESTRICT: not_yet,
    Operation.WITHDRAW: not_yet,
    Operation.TOMBSTONE_CONSENT: not_yet,
}

