"""Legal holds and retention sweeps over HTTP."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from charter.core.errors import CharterError
from charter.core.secrets import Secrets
from charter.retention import LegalHolds, RetentionRuns, RetentionSweep
from charter.retention.schemas import HoldIn, HoldOut, RunOut, SweepIn
from charter.subjects.services import SubjectDirectory
from charter.web.deps import DbSession, KeyringDep, SecretKey, get_keyring

router = APIRouter(tags=["retention"])


@router.post("/v1/holds", status_code=201, response_model=HoldOut)
def place_hold(body: HoldIn, session: DbSession, key: SecretKey, keyring: KeyringDep) -> HoldOut:
    """Place a legal hold: deletion of what it covers (a dataset, a collection, optionally one person's rows there)
    is suspended until `expires_at`."""
    subject_id = body.subject_id
    if body.identity is not None:
        found = SubjectDirectory(session, keyring).find(key.controller_id, body.identity.kind, body.identity.value)
        if found is None:
            raise CharterError("no person with that identity is known to Charter", field="identity")
        subject_id = found.id
    hold = LegalHolds(session, keyring).place(key.controller_id, dataset=body.dataset, collection=body.collection,
                                              subject_id=subject_id, reason=body.reason, expires_at=body.expires_at,
                                              actor=body.placed_by or f"api_key:{key.key_id}")
    return HoldOut.of(hold)


@router.get("/v1/holds", response_model=list[HoldOut])
def list_holds(session: DbSession, key: SecretKey, keyring: KeyringDep,
               include_ended: Annotated[bool, Query(alias="all")] = False) -> list[HoldOut]:
    holds = LegalHolds(session, keyring).holds(key.controller_id, include_ended=include_ended)
    return [HoldOut.of(h) for h in holds]


@router.get("/v1/holds/{hold_id}", response_model=HoldOut)
def get_hold(hold_id: str, session: DbSession, key: SecretKey, keyring: KeyringDep) -> HoldOut:
    return HoldOut.of(LegalHolds(session, keyring).get(key.controller_id, hold_id))


@router.post("/v1/holds/{hold_id}/release", response_model=HoldOut)
def release_hold(hold_id: str, session: DbSession, key: SecretKey, keyring: KeyringDep) -> HoldOut:
    return HoldOut.of(LegalHolds(session, keyring).release(key.controller_id, hold_id,
                                                           actor=f"api_key:{key.key_id}"))


@router.post("/v1/retention/sweeps", status_code=201, response_model=RunOut)
def sweep(body: SweepIn, request: Request, session: DbSession, key: SecretKey) -> RunOut:
    """Sweep now (a dry run unless `dry_run` is false). The scheduler sweeps every controller by itself; this is for
    a check after changing the data map or a hold. Large sweeps belong to `charter retention sweep`."""
    runner = RetentionSweep(request.app.state.sessions, get_keyring(request), Secrets.from_environment())
    report = runner.run(key.controller_id, dry_run=body.dry_run, actor=f"api_key:{key.key_id}")
    return RunOut.of(RetentionRuns(session).get(key.controller_id, report.run_id))


@router.get("/v1/retention/runs", response_model=list[RunOut])
def list_runs(session: DbSession, key: SecretKey, limit: int = 20) -> list[RunOut]:
    return [RunOut.of(r) for r in RetentionRuns(session).latest(key.controller_id, min(limit, 200))]


@router.get("/v1/retention/runs/{run_id}", response_model=RunOut)
def get_run(run_id: str, session: DbSession, key: SecretKey) -> RunOut:
    return RunOut.of(RetentionRuns(session).get(key.controller_id, run_id))
