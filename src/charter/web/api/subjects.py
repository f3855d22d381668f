"""Subjects over HTTP: registration (with the age check for minors and, when given, the acceptance of the policy),
their consents, what an embedded decider needs to know of them, restriction and suspension, and linking a banner
visitor at login."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from charter.consent.schemas import AcceptanceIn
from charter.consent.services import ConsentLedger
from charter.core.errors import CharterError, Forbidden
from charter.decisions.core import CompiledPolicy
from charter.decisions.services import subject_state
from charter.subjects.age import is_minor, latest_birth_of
from charter.subjects.normalise import normalise, parse_kind
from charter.subjects.services import SubjectDirectory
from charter.web.api.consents import event_json, recorded_json, state_json
from charter.web.deps import CollectingKey, DbSession, DeciderDep, KeyringDep, SecretKey

router = APIRouter(prefix="/v1/subjects", tags=["subjects"])
VISITOR_ID = r"^[0-9a-f]{32}$"


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IdentityIn(_In):
    kind: str = Field(max_length=32)
    value: str = Field(min_length=1, max_length=320)


class SubjectIn(_In):
    """`{"identities": [{"kind": "email", "value": "…"}], "birth_date": "2012-03-01"}`; give a date of birth
    or an age band (`"14-17"`, `"18+"`) when the service may be used by minors."""

    identities: list[IdentityIn] = Field(min_length=1, max_length=10)
    birth_date: str | None = Field(default=None, max_length=32)
    age_band: str | None = Field(default=None, max_length=16)
    acceptance: AcceptanceIn | None = None
    """The person accepted the policy as a whole to register (LUB-ACCEPT): recorded in the consent ledger."""


class SubjectOut(BaseModel):
    subject_id: str
    created: bool
    is_minor: bool
    needs_guardian: bool
    """The person is under the threshold and no guardian consent is on record yet."""
    acceptance: dict[str, Any] | None = None
    """The ledger record of the acceptance, when one was given."""


class ReasonIn(_In):
    reason: str = Field(max_length=64, description="a code such as `user_report`, never free text")


class VisitorIn(_In):
    visitor_id: str = Field(pattern=VISITOR_ID, description="from the banner's first-party cookie")


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


@router.post("", status_code=201)
def register(body: SubjectIn, *, response: Response, session: DbSession, key: CollectingKey, keyring: KeyringDep,
             decider: DeciderDep) -> SubjectOut:
    """Find or create the person known by these identities; record their age. Under a policy that refuses
    minors, a minor is refused and nothing is stored."""
    cid = key.controller_id
    compiled = decider.policy(cid)
    for n, identity in enumerate(body.identities):
        try:
            normalise(parse_kind(identity.kind), identity.value)
        except CharterError as exc:
            exc.field = f"identities[{n}].{'kind' if exc.field == 'kind' else 'value'}"
            raise
    latest = None
    if body.birth_date is not None or body.age_band is not None:
        latest = latest_birth_of(birth_date=body.birth_date, age_band=body.age_band, today=_today())
    minor = is_minor(latest, compiled.minor_threshold, _today())
    if minor and compiled.refuses_minors:
        raise Forbidden("the policy does not allow minors to register",
                        field="birth_date" if body.birth_date is not None else "age_band",
                        fix=f"People under {compiled.minor_threshold} cannot have an account under this policy.")
    directory = SubjectDirectory(session, keyring)
    first = body.identities[0]
    found = directory.find(cid, first.kind, first.value)
    subject = found or directory.resolve(cid, first.kind, first.value, actor=f"api_key:{key.key_id}")
    for identity in body.identities[1:]:
        directory.link(cid, subject.id, identity.kind, identity.value, actor=f"api_key:{key.key_id}")
    if latest is not None:
        directory.set_latest_birth(cid, subject.id, latest, "birth_date" if body.birth_date else "age_band",
                                   actor=f"api_key:{key.key_id}")
    if found is not None:
        response.status_code = 200
    ledger = ConsentLedger(session, keyring)
    accepted = None if body.acceptance is None else ledger.accept(
        cid, subject.id, body.acceptance, compiled.terms, actor=f"api_key:{key.key_id}", field_prefix="acceptance.")
    has_guardian = ledger.has_guardian(cid, subject.id)
    return SubjectOut(subject_id=subject.id, created=found is None, is_minor=minor,
                      needs_guardian=minor and not has_guardian and not compiled.refuses_minors,
                      acceptance=recorded_json(accepted) if accepted is not None else None)


@router.post("/{subject_id}/acceptance", status_code=201)
def accept(subject_id: str, body: AcceptanceIn, *, session: DbSession, key: CollectingKey, keyring: KeyringDep,
           decider: DeciderDep) -> dict[str, Any]:
    """The person accepted the policy as a whole (LUB-ACCEPT), e.g. again after a change: their state for
    `policy` in `GET /v1/subjects/{id}/consents` says `needs_reconsent` until they do. Appended, never rewritten."""
    terms = decider.policy(key.controller_id).terms
    done = ConsentLedger(session, keyring).accept(key.controller_id, subject_id, body, terms,
                                                  actor=f"api_key:{key.key_id}")
    return recorded_json(done)


@router.get("/{subject_id}/consents")
def consents(subject_id: str, *, session: DbSession, key: SecretKey, keyring: KeyringDep, decider: DeciderDep,
             history: Annotated[bool, Query(description="include every event, oldest first")] = False,
             ) -> dict[str, Any]:
    """The current consent per purpose (and, with `history=true`, every event: withdrawal never rewrites it)."""
    SubjectDirectory(session, keyring).get(key.controller_id, subject_id)
    terms = decider.policy(key.controller_id).terms
    ledger = ConsentLedger(session, keyring)
    out: dict[str, Any] = {"subject_id": subject_id, "policy_version": terms.current.version,
                           "consents": [state_json(s, terms) for s in ledger.states(key.controller_id, subject_id)]}
    if history:
        out["history"] = [event_json(e) for e in ledger.history(key.controller_id, subject_id)]
    return out


@router.get("/{subject_id}/state")
def state(subject_id: str, session: DbSession, key: SecretKey, keyring: KeyringDep,
          decider: DeciderDep) -> dict[str, Any]:
    """What an embedded decider needs to know of the subject (ages reduced to `minor_until`)."""
    compiled: CompiledPolicy = decider.policy(key.controller_id)
    found = subject_state(session, keyring, key.controller_id, subject_id, compiled)
    by_hash = {s.purpose: s.policy_hash for s in ConsentLedger(session, keyring).states(key.controller_id, subject_id)}
    return {"subject_id": found.subject_id, "is_restricted": found.is_restricted, "is_suspended": found.is_suspended,
            "minor_until": found.minor_until.isoformat() if found.minor_until else None,
            "has_guardian": found.has_guardian,
            "consents": {p: {"status": v.status, "kind": v.kind, "policy_hash": by_hash[p],
                             "valid_until": v.valid_until, "record_id": v.record_id, "by_guardian": v.by_guardian}
                         for p, v in found.consents.items()}}


def _flag(action: str, subject_id: str, *, session: DbSession, key: SecretKey, keyring: KeyringDep,
          reason: str | None = None) -> dict[str, str]:
    directory = SubjectDirectory(session, keyring)
    actor = f"api_key:{key.key_id}"
    if action == "restrict":
        directory.restrict(key.controller_id, subject_id, reason or "", actor=actor)
    elif action == "lift-restriction":
        directory.lift_restriction(key.controller_id, subject_id, actor=actor)
    elif action == "suspend":
        directory.suspend(key.controller_id, subject_id, reason or "", actor=actor)
    else:
        directory.unsuspend(key.controller_id, subject_id, actor=actor)
    return {"subject_id": subject_id, "done": action}


@router.post("/{subject_id}/restrict")
def restrict(subject_id: str, body: ReasonIn, session: DbSession, key: SecretKey,
             keyring: KeyringDep) -> dict[str, str]:
    """Stop all processing but storage and security (PIPL art. 47)."""
    return _flag("restrict", subject_id, session=session, key=key, keyring=keyring, reason=body.reason)


@router.post("/{subject_id}/lift-restriction")
def lift_restriction(subject_id: str, session: DbSession, key: SecretKey, keyring: KeyringDep) -> dict[str, str]:
    return _flag("lift-restriction", subject_id, session=session, key=key, keyring=keyring)


@router.post("/{subject_id}/suspend")
def suspend(subject_id: str, body: ReasonIn, session: DbSession, key: SecretKey,
            keyring: KeyringDep) -> dict[str, str]:
    """Suspend the account (LUB-ACCOUNT-SECURITY): non-essential processing is denied until unsuspended."""
    return _flag("suspend", subject_id, session=session, key=key, keyring=keyring, reason=body.reason)


@router.post("/{subject_id}/unsuspend")
def unsuspend(subject_id: str, session: DbSession, key: SecretKey, keyring: KeyringDep) -> dict[str, str]:
    return _flag("unsuspend", subject_id, session=session, key=key, keyring=keyring)


@router.post("/{subject_id}/unlink")
def unlink(subject_id: str, body: IdentityIn, *, session: DbSession, key: SecretKey,
           keyring: KeyringDep) -> dict[str, Any]:
    """The person is no longer known by this identity (`{"kind": "account_id", "value": "wang_site"}`): a linked
    account was unlinked (LAN-ACCOUNT-LINK). Their other identities stay; the last one cannot be removed."""
    removed = SubjectDirectory(session, keyring).unlink(key.controller_id, subject_id, body.kind, body.value,
                                                       actor=f"api_key:{key.key_id}")
    return {"subject_id": subject_id, "unlinked": removed}


@router.post("/{subject_id}/link-visitor")
def link_visitor(subject_id: str, body: VisitorIn, *, session: DbSession, key: CollectingKey, keyring: KeyringDep,
                 decider: DeciderDep) -> dict[str, Any]:
    """At login: the banner's choices made as an anonymous visitor carry over to the account."""
    terms = decider.policy(key.controller_id).terms
    carried = ConsentLedger(session, keyring).link_visitor(key.controller_id, body.visitor_id, subject_id, terms,
                                                            actor=f"api_key:{key.key_id}")
    return {"subject_id": subject_id, "carried_over": [r.record_id for r in carried]}
