"""The consent banner's API, called from the browser with the controller's publishable key in the path:
`/v1/banner/{key}/session` (config, texts and the visitor's status), `/choices` (record a choice in the ledger),
`/receipt` (the visitor's receipts). Only the origins the controller declared may call it (`charter.web.cors`).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from charter.accounts.models import KeyKind
from charter.accounts.services import ApiKeyService, ApiPrincipal
from charter.consent.banner import banner_config, banner_status, needs_prompt
from charter.consent.schemas import EvidenceIn, Language
from charter.consent.services import ConsentLedger
from charter.core.errors import Conflict, Forbidden
from charter.policy.services import PolicyStore
from charter.web.api.consents import policy_finder, recorded_json
from charter.web.api.subjects import VISITOR_ID
from charter.web.deps import DbSession, DeciderDep, KeyringDep, collecting

router = APIRouter(prefix="/v1/banner/{key}", tags=["banner"])
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")


def banner_key(key: Annotated[str, Path(max_length=200)], session: DbSession) -> ApiPrincipal:
    principal = ApiKeyService(session).authenticate(key)
    if principal.kind is not KeyKind.PUBLISHABLE:
        raise Forbidden("the banner takes the publishable key", field="key",
                        fix="Put the controller's publishable key (chp_…) in the page, never the secret one.")
    return principal


BannerKey = Annotated[ApiPrincipal, Depends(banner_key)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SessionIn(_In):
    visitor_id: str | None = Field(default=None, pattern=VISITOR_ID)
    gpc: bool = False


class ChoicesIn(_In):
    visitor_id: str = Field(pattern=VISITOR_ID)
    choices: dict[str, bool] = Field(min_length=1, max_length=10)
    language: Language = "zh-CN"
    policy_hash: str = Field(max_length=80, description="the version the banner showed")
    gpc: bool = False


class ReceiptIn(_In):
    visitor_id: str = Field(pattern=VISITOR_ID)


def _ip(request: Request) -> str | None:
    """The peer's address as evidence; None when it is not an IP (a Unix socket, a test client)."""
    host = request.client.host if request.client else None
    try:
        return str(ipaddress.ip_address(host)) if host else None
    except ValueError:
        return None


def _gpc(sec_gpc: str | None, stated: bool) -> bool:
    return stated or (sec_gpc or "").strip() == "1"


@router.post("/session")
def session_state(body: SessionIn, *, key: BannerKey, session: DbSession, keyring: KeyringDep,
                  decider: DeciderDep, sec_gpc: Annotated[str | None, Header()] = None) -> dict[str, Any]:
    """What the banner shows and whether it must ask: categories and texts from the policy in force, and the
    visitor's status per category (`unset` and `needs_reconsent` prompt)."""
    terms = decider.policy(key.controller_id).terms
    ledger = ConsentLedger(session, keyring)
    subject = ledger.visitor(key.controller_id, body.visitor_id) if body.visitor_id else None
    status = banner_status(terms, ledger.current(key.controller_id, subject) if subject else {})
    gpc = _gpc(sec_gpc, body.gpc)
    return {"config": banner_config(terms), "status": status, "needs_prompt": needs_prompt(status, gpc=gpc),
            "gpc": gpc}


@router.post("/choices")
def choices(body: ChoicesIn, request: Request, *, key: BannerKey, session: DbSession, keyring: KeyringDep,
            decider: DeciderDep, sec_gpc: Annotated[str | None, Header()] = None,
            x_request_id: Annotated[str | None, Header()] = None) -> dict[str, Any]:
    """Record the visitor's choice in the ledger (only what changed), with IP, user agent and GPC as evidence."""
    collecting(key)
    terms = decider.policy(key.controller_id).terms
    if body.policy_hash != terms.current.content_hash:
        raise Conflict("the policy changed since the banner was shown", field="policy_hash",
                       fix="Reload the banner and ask again.")
    evidence = EvidenceIn(ip=_ip(request),
                          user_agent=(request.headers.get("user-agent") or "")[:500] or None,
                          gpc=_gpc(sec_gpc, body.gpc),
                          request_id=x_request_id if x_request_id and _REQUEST_ID.match(x_request_id) else None)
    ledger = ConsentLedger(session, keyring)
    subject, done = ledger.record_choices(key.controller_id, body.visitor_id, body.choices, terms,
                                          language=body.language, evidence=evidence, actor=f"banner:{key.key_id}")
    status = banner_status(terms, ledger.current(key.controller_id, subject))
    return {"status": status, "needs_prompt": needs_prompt(status, gpc=evidence.gpc),
            "recorded": [{k: v for k, v in recorded_json(r).items() if k not in ("subject_id", "receipt")}
                         for r in done]}


@router.post("/receipt")
def receipts(body: ReceiptIn, *, key: BannerKey, session: DbSession, keyring: KeyringDep) -> dict[str, Any]:
    """The receipts of the visitor's current choices, for the person to keep."""
    ledger = ConsentLedger(session, keyring)
    subject = ledger.visitor(key.controller_id, body.visitor_id)
    if subject is None:
        return {"receipts": []}
    find = policy_finder(PolicyStore(session), key.controller_id)
    return {"receipts": [ledger.receipt(key.controller_id, s.record_id, find)
                         for s in ledger.states(key.controller_id, subject)]}
