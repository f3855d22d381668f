"""Consents over HTTP: record one event or a batch, and download a receipt.

`POST /v1/consents` takes one event (`{"subject_id": …, "purpose": …, "action": "grant"}`) or a list of them;
every item is checked before anything is written, and a mistake names its field (`[3].purpose` in a list).
Withdrawal is the same call with `"action": "withdraw"`: it takes effect in the very next decision.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import TypeAdapter, ValidationError

from charter.consent.chain import iso
from charter.consent.models import ConsentEvent, ConsentState, ConsentStatus
from charter.consent.schemas import ConsentIn
from charter.consent.services import ConsentLedger, Recorded
from charter.consent.terms import PolicyTerms
from charter.core.errors import CharterError
from charter.policy.schema import PolicyVersion
from charter.policy.services import PolicyStore, as_policy
from charter.web.deps import DbSession, DeciderDep, KeyringDep, SecretKey

router = APIRouter(prefix="/v1/consents", tags=["consents"])

MAX_BATCH = 1000
_ONE = TypeAdapter(ConsentIn)
_MANY = TypeAdapter(list[ConsentIn])


def recorded_json(r: Recorded) -> dict[str, Any]:
    return {"record_id": r.record_id, "seq": r.seq, "subject_id": r.subject_id, "purpose": r.purpose,
            "action": r.action, "status": r.status, "at": iso(r.at), "hash": r.hash,
            "receipt": f"/v1/consents/{r.record_id}/receipt"}


def state_json(s: ConsentState, terms: PolicyTerms) -> dict[str, Any]:
    return {"purpose": s.purpose, "status": s.status, "consent_kind": s.consent_kind,
            "policy_version": s.policy_version, "policy_hash": s.policy_hash, "record_id": s.record_id,
            "at": iso(s.at), "valid_until": iso(s.valid_until), "by_guardian": s.by_guardian, "gpc": s.gpc,
            "needs_reconsent": s.status in _COUNTING and terms.needs_reconsent(s.purpose, s.policy_hash)}


_COUNTING = frozenset({ConsentStatus.GRANTED.value, ConsentStatus.ACCEPTED.value})
"""States a later policy change can make outdated: a consent given, or the policy accepted."""


def event_json(e: ConsentEvent) -> dict[str, Any]:
    return {"record_id": e.record_id, "seq": e.seq, "action": e.action, "purpose": e.purpose,
            "consent_kind": e.consent_kind, "policy_version": e.policy_version, "channel": e.channel,
            "method": e.method, "language": e.language, "at": iso(e.at), "gpc": e.gpc, "hash": e.hash}


def parse_consents(body: bytes) -> tuple[list[ConsentIn], bool]:
    """The events in a request body (one object or a list) and whether it was a list; a mistake names its field
    (`[3].purpose` in a list). Parsed and validated in one pass over the bytes."""
    is_batch = body.lstrip()[:1] == b"["
    try:
        parsed = _MANY.validate_json(body) if is_batch else [_ONE.validate_json(body)]
    except ValidationError as exc:
        first = exc.errors()[0]
        if first["type"] == "json_invalid":
            raise CharterError("the body is not JSON", field="body") from exc
        loc = list(first["loc"])
        where = (f"[{loc.pop(0)}]." if is_batch and loc and isinstance(loc[0], int) else "") + ".".join(map(str, loc))
        raise CharterError(f"the consent is not valid: {first['msg']}", field=where.rstrip(".") or "body",
                           fix="See the ConsentIn schema in the API docs (/docs).") from exc
    if is_batch and not 0 < len(parsed) <= MAX_BATCH:
        raise CharterError(f"a batch holds 1 to {MAX_BATCH} events", field="body")
    return parsed, is_batch


_SCHEMA = _ONE.json_schema(ref_template="#/components/schemas/{model}")


@router.post("", status_code=201, openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
    "schema": {"oneOf": [{"type": "object"}, {"type": "array", "maxItems": MAX_BATCH}],
               "description": "a ConsentIn object, or a list of them"}}}}})
async def record(request: Request, session: DbSession, key: SecretKey, keyring: KeyringDep,
                 decider: DeciderDep) -> Response:
    """Record consent events (grant, refuse, withdraw, guardian_grant); a list is one transaction. Once the
    controller has ceased operations a grant is refused (409); refusals and withdrawals are still recorded."""
    parsed, is_batch = parse_consents(await request.body())
    terms = decider.policy(key.controller_id).terms
    done = ConsentLedger(session, keyring).record_many(key.controller_id, parsed, terms,
                                                       actor=f"api_key:{key.key_id}", is_batch=is_batch)
    out = [recorded_json(r) for r in done] if is_batch else recorded_json(done[0])
    return Response(json.dumps(out, ensure_ascii=False), status_code=201, media_type="application/json")


def policy_finder(store: PolicyStore, controller_id: str) -> Any:
    def find(content_hash: str) -> PolicyVersion | None:
        record = next((r for r in store.list(controller_id) if r.content_hash == content_hash), None)
        return as_policy(record) if record is not None else None

    return find


@router.get("/{record_id}/receipt")
def receipt(record_id: str, session: DbSession, key: SecretKey, keyring: KeyringDep) -> Response:
    """The ISO/IEC TS 27560 receipt of one event, as a JSON download for the person."""
    found = ConsentLedger(session, keyring).receipt(key.controller_id, record_id,
                                                    policy_finder(PolicyStore(session), key.controller_id))
    return Response(json.dumps(found, ensure_ascii=False, indent=2), media_type="application/json",
                    headers={"Content-Disposition": f'attachment; filename="consent-receipt-{record_id}.json"'})
