"""The once-in-a-lifetime operations over HTTP: controller transfer, compelled disclosure, ceasing operations,
de-identified exports; and the policy changes the banner asks about."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response

from charter.core.errors import CharterError
from charter.core.secrets import Secrets
from charter.operations import (
    DeidentifiedExporter,
    Disclosures,
    PolicyChanges,
    ShutdownErasure,
    Shutdowns,
    Transfers,
    closing_report,
    disclosure_register,
    parse_generalisation,
    transfer_report,
)
from charter.operations.schemas import (
    CeaseIn,
    CeaseNotifyIn,
    ChangeOut,
    DisclosureCreate,
    DisclosureOut,
    DryRunIn,
    ExportIn,
    NotifyIn,
    ShutdownOut,
    TransferCreate,
    TransferOut,
    UndertakingIn,
)
from charter.retention.schemas import RunOut
from charter.retention.services import RetentionRuns
from charter.subjects.services import SubjectDirectory
from charter.web.deps import AnyKey, DbSession, RequestOutbox, SecretKey, get_keyring

router = APIRouter(prefix="/v1/operations", tags=["operations"])
changes = APIRouter(prefix="/v1/policy-changes", tags=["policy changes"])

MARKDOWN = "text/markdown; charset=utf-8"


def _actor(key: SecretKey) -> str:
    return f"api_key:{key.key_id}"


# --- controller transfer --------------------------------------------------------------------------------------


@router.post("/transfers", status_code=201, response_model=TransferOut)
def start_transfer(body: TransferCreate, request: Request, session: DbSession, key: SecretKey) -> TransferOut:
    transfer = Transfers(session, get_keyring(request)).start(
        key.controller_id, new_holder=body.new_holder, new_holder_contact=body.new_holder_contact,
        transfer_date=body.transfer_date, actor=_actor(key))
    return TransferOut.of(transfer)


@router.get("/transfers", response_model=list[TransferOut])
def list_transfers(request: Request, session: DbSession, key: SecretKey) -> list[TransferOut]:
    return [TransferOut.of(t) for t in Transfers(session, get_keyring(request)).all(key.controller_id)]


@router.get("/transfers/{transfer_id}", response_model=TransferOut)
def get_transfer(transfer_id: str, request: Request, session: DbSession, key: SecretKey) -> TransferOut:
    return TransferOut.of(Transfers(session, get_keyring(request)).get(key.controller_id, transfer_id))


@router.post("/transfers/{transfer_id}/notify")
def notify_transfer(transfer_id: str, body: NotifyIn, *, request: Request, session: DbSession, outbox: RequestOutbox,
                    key: SecretKey) -> dict[str, object]:
    """Tell every person before the transfer (and announce it, if asked); `dry_run` counts who would be told."""
    return Transfers(session, get_keyring(request), outbox=outbox).notify(
        key.controller_id, transfer_id, announce=body.announce, dry_run=body.dry_run, actor=_actor(key))


@router.post("/transfers/{transfer_id}/undertaking", response_model=TransferOut)
def record_undertaking(transfer_id: str, body: UndertakingIn, request: Request, session: DbSession,
                       key: SecretKey) -> TransferOut:
    return TransferOut.of(Transfers(session, get_keyring(request)).record_undertaking(
        key.controller_id, transfer_id, text=body.text, signed_by=body.signed_by, signed_at=body.signed_at,
        actor=_actor(key)))


@router.post("/transfers/{transfer_id}/handover")
def hand_over(transfer_id: str, body: DryRunIn, request: Request, session: DbSession,
              key: SecretKey) -> dict[str, Any]:
    """Hand over: refused (409, naming what is missing) before people are told and the undertaking recorded."""
    done = Transfers(session, get_keyring(request)).hand_over(key.controller_id, transfer_id, dry_run=body.dry_run,
                                                              actor=_actor(key))
    return {"transfer": TransferOut.of(done.transfer).model_dump(mode="json"), "delivery": done.delivery,
            "dry_run": done.is_dry_run}


@router.get("/transfers/{transfer_id}/report")
def transfer_report_view(transfer_id: str, request: Request, session: DbSession, key: SecretKey) -> Response:
    transfer = Transfers(session, get_keyring(request)).get(key.controller_id, transfer_id)
    return Response(transfer_report(session, transfer), media_type=MARKDOWN)


# --- compelled disclosure -------------------------------------------------------------------------------------


@router.post("/disclosures", status_code=201, response_model=DisclosureOut)
def record_disclosure(body: DisclosureCreate, request: Request, session: DbSession, outbox: RequestOutbox,
                      key: SecretKey) -> DisclosureOut:
    """Record a disclosure the law compelled; the person is told now, or when the restriction ends."""
    subject_id = body.subject_id
    if body.identity is not None:
        found = SubjectDirectory(session, get_keyring(request)).find(key.controller_id, body.identity.kind,
                                                                     body.identity.value)
        if found is None:
            raise CharterError("no person with that identity is known to Charter", field="identity")
        subject_id = found.id
    if subject_id is None:
        raise CharterError("say whose data was disclosed", field="subject_id", fix="Give subject_id or identity.")
    disclosure = Disclosures(session, get_keyring(request), outbox=outbox).record(
        key.controller_id, subject_id=subject_id, authority=body.authority, grounds=body.grounds,
        reference=body.reference, disclosed_at=body.disclosed_at, categories=body.categories,
        description=body.description, restriction_basis=body.restriction_basis,
        restricted_until=body.restricted_until, actor=_actor(key))
    return DisclosureOut.of(disclosure)


@router.get("/disclosures", response_model=list[DisclosureOut])
def list_disclosures(request: Request, session: DbSession, key: SecretKey) -> list[DisclosureOut]:
    return [DisclosureOut.of(d) for d in Disclosures(session, get_keyring(request)).all(key.controller_id)]


@router.get("/disclosures/report")
def disclosures_report(request: Request, session: DbSession, key: SecretKey) -> Response:
    found = Disclosures(session, get_keyring(request)).all(key.controller_id)
    return Response(disclosure_register(found), media_type=MARKDOWN)


@router.get("/disclosures/{disclosure_id}", response_model=DisclosureOut)
def get_disclosure(disclosure_id: str, request: Request, session: DbSession, key: SecretKey) -> DisclosureOut:
    return DisclosureOut.of(Disclosures(session, get_keyring(request)).get(key.controller_id, disclosure_id))


# --- ceasing operations ---------------------------------------------------------------------------------------


@router.post("/cease", status_code=201)
def cease(body: CeaseIn, request: Request, session: DbSession, key: SecretKey) -> dict[str, Any]:
    """Stop collection: from now on consent, decisions and new people are refused for this controller."""
    stopped = Shutdowns(session, get_keyring(request)).stop_collection(
        key.controller_id, reason=body.reason, last_day=body.last_day, dry_run=body.dry_run, actor=_actor(key))
    return {"dry_run": body.dry_run, "shutdown": ShutdownOut.of(stopped).model_dump(mode="json") if stopped else None}


@router.get("/cease", response_model=ShutdownOut)
def cease_status(request: Request, session: DbSession, key: SecretKey) -> ShutdownOut:
    return ShutdownOut.of(Shutdowns(session, get_keyring(request)).get(key.controller_id))


@router.post("/cease/notify")
def cease_notify(body: CeaseNotifyIn, request: Request, session: DbSession, outbox: RequestOutbox,
                 key: SecretKey) -> dict[str, object]:
    return Shutdowns(session, get_keyring(request), outbox=outbox).notify(
        key.controller_id, individually=body.individually, announce=body.announce, dry_run=body.dry_run,
        actor=_actor(key))


@router.post("/cease/erase", response_model=RunOut)
def cease_erase(body: DryRunIn, request: Request, session: DbSession, key: SecretKey) -> RunOut:
    """Erase or anonymise every dataset through the connectors (after the last day, once people were told)."""
    report = ShutdownErasure(request.app.state.sessions, get_keyring(request), Secrets.from_environment()).erase(
        key.controller_id, dry_run=body.dry_run, actor=_actor(key))
    return RunOut.of(RetentionRuns(session).get(key.controller_id, report.run_id))


@router.get("/cease/report")
def cease_report(request: Request, session: DbSession, key: SecretKey) -> Response:
    shutdown = Shutdowns(session, get_keyring(request)).get(key.controller_id)
    return Response(closing_report(session, shutdown), media_type=MARKDOWN)


# --- de-identified export -------------------------------------------------------------------------------------


@router.post("/exports", response_model=None)
def export(body: ExportIn, request: Request, key: SecretKey) -> Response | dict[str, Any]:
    """A collection, de-identified, as CSV; refused (naming the column) if a direct identifier would survive."""
    rules = dict(parse_generalisation(g) for g in body.generalise)
    exporter = DeidentifiedExporter(request.app.state.sessions, get_keyring(request), Secrets.from_environment())
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "export.csv"
        result = exporter.export(key.controller_id, body.collection, out, generalise=rules, dry_run=body.dry_run,
                                 actor=_actor(key))
        columns = {c.name: c.description for c in result.columns}
        if body.dry_run:
            return {"dry_run": True, "rows": result.rows, "columns": columns}
        return Response(out.read_bytes(), media_type="text/csv; charset=utf-8",
                        headers={"X-Charter-Export": result.export_id or "", "X-Charter-Sha256": result.sha256 or ""})


# --- policy changes -------------------------------------------------------------------------------------------


@changes.get("", response_model=list[ChangeOut])
def list_changes(request: Request, session: DbSession, key: SecretKey) -> list[ChangeOut]:
    return [ChangeOut.of(c) for c in PolicyChanges(session, get_keyring(request)).all(key.controller_id)]


@changes.get("/upcoming", response_model=ChangeOut | None)
def upcoming(request: Request, session: DbSession, key: AnyKey) -> ChangeOut | None:
    """The next policy change not yet in effect (null when none): what the consent banner shows. Publishable keys
    may ask."""
    found = PolicyChanges(session, get_keyring(request)).upcoming(key.controller_id)
    return ChangeOut.of(found) if found else None
