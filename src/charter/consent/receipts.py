"""Consent receipts: one ledger event as JSON with the information elements of ISO/IEC TS 27560:2023.

The receipt is what the person keeps: who the controller is, what they agreed to (purpose, categories, legal
basis, recipients, retention, jurisdiction), under which notice and policy version (with its content hash), how
and when it was collected, how long it lasts, and how to check it against the ledger (its hash and place in the
chain). A receipt of an erased subject's event is the anonymised tombstone: the commitments remain, the person
does not.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from charter.consent.chain import iso
from charter.consent.models import STATUS_AFTER, EventAction
from charter.core.i18n import Lang
from charter.policy.schema import WHOLE_POLICY, PolicyVersion, Purpose

__all__ = ["RECEIPT_SCHEMA", "receipt"]

RECEIPT_SCHEMA = "charter.consent-receipt/v1 (ISO/IEC TS 27560:2023 information elements)"

_EVENT_TYPE = {
    EventAction.GRANT: "given",
    EventAction.GUARDIAN_GRANT: "given",
    EventAction.REFUSE: "refused",
    EventAction.WITHDRAW: "withdrawn",
    EventAction.EXPIRE: "expired",
    EventAction.SUPERSEDE: "invalidated",
    EventAction.ACCEPT: "accepted",
}


def receipt(event: Mapping[str, Any], policy: PolicyVersion | None, controller_name: str) -> dict[str, Any]:
    """The receipt of one event (a mapping of the ledger row's columns)."""
    action = EventAction(event["action"])
    lang = Lang.parse(event["language"])
    purpose = policy.purpose(event["purpose"]) if policy is not None else None
    erased = event.get("erased_at") is not None
    return {
        "schema": RECEIPT_SCHEMA,
        "record_id": event["record_id"],
        "pii_principal": ({"erased": True, "commitment": event["subject_commitment"]} if erased
                          else {"id": event["subject_id"], "commitment": event["subject_commitment"]}),
        "pii_controller": _controller(policy, controller_name, lang),
        "notice": {"id": event["notice"], "language": lang.value, "policy_version": event["policy_version"],
                   "policy_content_hash": event["policy_hash"]},
        "event": {"type": _EVENT_TYPE[action], "action": action.value,
                  "state": STATUS_AFTER[action].value, "time": iso(event["at"]),
                  "by": "guardian" if action is EventAction.GUARDIAN_GRANT else
                        ("controller" if action in (EventAction.EXPIRE, EventAction.SUPERSEDE) else "pii_principal")},
        "consent_type": event["consent_kind"],
        "purpose": _purpose(purpose, event["purpose"], policy, lang),
        "jurisdiction": event["jurisdiction"],
        "collection": {"method": event["method"], "channel": event["channel"],
                       "linked_from_record": event.get("linked_from")},
        "validity": {"valid_until": iso(event["valid_until"]),
                     "until_withdrawn": event["valid_until"] is None},
        "evidence": {"gpc": bool(event["gpc"]), "request_id": event.get("request_id"),
                     "commitment": event["evidence_commitment"],
                     "guardian_record": event.get("guardian_record_id"),
                     "guardian_commitment": event.get("guardian_commitment")},
        "withdrawal": _withdrawal(policy, lang),
        "ledger": {"controller": event["controller_id"], "seq": event["seq"], "prev_hash": event["prev_hash"],
                   "hash": event["hash"], "erased": erased},
    }


def _controller(policy: PolicyVersion | None, name: str, lang: Lang) -> dict[str, Any]:
    if policy is None:
        return {"name": name}
    c = policy.controller
    return {"id": c.id, "name": c.name.get(lang), "address": c.address.get(lang), "website": c.website,
            "contacts": [{"kind": k.kind.value, "label": k.label.get(lang), "value": k.value} for k in c.contacts]}


def _purpose(purpose: Purpose | None, purpose_id: str, policy: PolicyVersion | None, lang: Lang) -> dict[str, Any]:
    if purpose_id == WHOLE_POLICY and policy is not None:
        # An acceptance covers the policy as a whole: name each purpose and the basis it rests on. It is not a
        # consent to any of them (consent_type none): those resting on consent are asked one by one.
        return {"id": WHOLE_POLICY, "whole_policy": True,
                "purposes": [{"id": p.id, "label": p.label.get(lang), "legal_basis": p.legal_basis.value,
                              "is_essential": p.is_essential} for p in policy.purposes]}
    if purpose is None or policy is None:
        return {"id": purpose_id}
    categories = [policy.category(c) for c in purpose.categories]
    recipients = [r for r in policy.recipients if purpose.id in r.purposes]
    return {
        "id": purpose.id, "label": purpose.label.get(lang), "description": purpose.description.get(lang),
        "legal_basis": purpose.legal_basis.value, "is_essential": purpose.is_essential,
        "pii_categories": [{"id": c.id, "label": c.label.get(lang), "is_sensitive": c.is_sensitive}
                           for c in categories if c is not None],
        "retention": purpose.retention.text.get(lang),
        "storage_regions": list(policy.storage_regions),
        "recipients": [{"id": r.id, "name": r.name.get(lang), "role": r.role.value, "contact": r.contact,
                        "region": r.region} for r in recipients],
    }


def _withdrawal(policy: PolicyVersion | None, lang: Lang) -> dict[str, Any]:
    if policy is None:
        return {}
    offer = next((r for r in policy.rights if r.right.value == "withdrawal"), None)
    return {"channels": [c.value for c in offer.channels] if offer else [],
            "text": offer.text.get(lang) if offer and offer.text else None}
