"""Incidents over HTTP: record, resolve the people affected, notices, filings, clocks, the regulator report."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from charter.core.errors import CharterError
from charter.core.i18n import Lang, Text
from charter.core.secrets import Secrets
from charter.incidents import (
    AffectedResolver,
    IncidentIn,
    IncidentNotices,
    IncidentReports,
    Incidents,
    build_report,
    to_markdown,
    to_pdf,
)
from charter.incidents.schemas import (
    ClockOut,
    FilingCreate,
    FilingOut,
    IncidentCreate,
    IncidentOut,
    NoticeCreate,
    NoticeOut,
    OverdueOut,
)
from charter.web.deps import DbSession, RequestOutbox, SecretKey, get_keyring

router = APIRouter(prefix="/v1/incidents", tags=["incidents"])


def _actor(key: SecretKey) -> str:
    return f"api_key:{key.key_id}"


def _out(incidents: Incidents, incident_id: str, controller_id: str) -> IncidentOut:
    incident = incidents.get(controller_id, incident_id)
    return IncidentOut.of(incident, incidents.clocks(incident))


@router.post("", status_code=201, response_model=IncidentOut)
def record(body: IncidentCreate, session: DbSession, key: SecretKey) -> IncidentOut:
    """Record an incident (GB/T 35273 §10.1); its reporting clocks start at `discovered_at`."""
    incidents = Incidents(session)
    incident = incidents.record(key.controller_id, IncidentIn(**body.model_dump()), actor=_actor(key))
    return IncidentOut.of(incident, incidents.clocks(incident))


@router.get("", response_model=list[IncidentOut])
def list_incidents(session: DbSession, key: SecretKey,
                   status: Annotated[Literal["open", "closed"] | None, Query()] = None) -> list[IncidentOut]:
    incidents = Incidents(session)
    return [IncidentOut.of(i, incidents.clocks(i)) for i in incidents.all(key.controller_id, status=status)]


@router.get("/overdue", response_model=list[OverdueOut])
def overdue(session: DbSession, key: SecretKey) -> list[OverdueOut]:
    """Every reporting deadline of an open incident that has passed with no filing recorded."""
    return [OverdueOut(incident_id=i.id, reference=i.reference, title=i.title, clock=ClockOut.of(state))
            for i, state in Incidents(session).overdue(key.controller_id)]


@router.get("/{incident_id}", response_model=IncidentOut)
def get_incident(incident_id: str, session: DbSession, key: SecretKey) -> IncidentOut:
    return _out(Incidents(session), incident_id, key.controller_id)


@router.post("/{incident_id}/close", response_model=IncidentOut)
def close(incident_id: str, session: DbSession, key: SecretKey) -> IncidentOut:
    incidents = Incidents(session)
    incidents.close(key.controller_id, incident_id, actor=_actor(key))
    return _out(incidents, incident_id, key.controller_id)


@router.post("/{incident_id}/resolve", response_model=IncidentOut)
def resolve(incident_id: str, request: Request, session: DbSession, key: SecretKey) -> IncidentOut:
    """Find the people affected: the identities in the collections the incident touched, within its window."""
    Incidents(session).get(key.controller_id, incident_id)
    AffectedResolver(request.app.state.sessions, get_keyring(request), Secrets.from_environment()).resolve(
        key.controller_id, incident_id, actor=_actor(key))
    session.expire_all()
    return _out(Incidents(session), incident_id, key.controller_id)


@router.post("/{incident_id}/notices", status_code=201, response_model=NoticeOut)
def draft_notice(incident_id: str, body: NoticeCreate, request: Request, session: DbSession,
                 key: SecretKey) -> NoticeOut:
    """Draft a notice; refused, naming the element, unless it carries every element the jurisdictions require."""
    notices = IncidentNotices(session, get_keyring(request))
    notice = notices.draft(key.controller_id, incident_id,
                           elements={code: Text(**text.model_dump()) for code, text in body.elements.items()},
                           channels=body.channels, announce=body.announce, actor=_actor(key))
    return NoticeOut.of(notice)


@router.get("/{incident_id}/notices", response_model=list[NoticeOut])
def list_notices(incident_id: str, session: DbSession, key: SecretKey) -> list[NoticeOut]:
    incidents = Incidents(session)
    return [NoticeOut.of(n) for n in incidents.notices(incidents.get(key.controller_id, incident_id))]


@router.post("/{incident_id}/notices/{notice_id}/send", response_model=NoticeOut)
def send_notice(incident_id: str, notice_id: str, *, request: Request, session: DbSession, outbox: RequestOutbox,
                key: SecretKey) -> NoticeOut:
    """Queue the notice for every person affected by every chosen channel (and announce it if the draft says so)."""
    notices = IncidentNotices(session, get_keyring(request), outbox=outbox)
    if notices.get(key.controller_id, notice_id).incident_id != incident_id:
        raise CharterError("that notice belongs to another incident", field="notice_id")
    return NoticeOut.of(notices.send(key.controller_id, notice_id, actor=_actor(key)))


@router.post("/{incident_id}/filings", status_code=201, response_model=FilingOut)
def file(incident_id: str, body: FilingCreate, session: DbSession, key: SecretKey) -> FilingOut:
    """Record a report to an authority; it stops that clock."""
    filing = Incidents(session).file(key.controller_id, incident_id, clock=body.clock, authority=body.authority,
                                     reference=body.reference, filed_at=body.filed_at, actor=_actor(key))
    return FilingOut.of(filing)


@router.get("/{incident_id}/report")
def report(incident_id: str, session: DbSession, key: SecretKey, lang: str = "zh-CN",
           fmt: Annotated[Literal["markdown", "pdf"], Query(alias="format")] = "markdown") -> Response:
    """The regulator report, in Chinese or English, as Markdown or PDF."""
    try:
        language = Lang.parse(lang)
    except ValueError as exc:
        raise CharterError(str(exc), field="lang") from exc
    built = build_report(IncidentReports(session).facts(key.controller_id, incident_id), language)
    if fmt == "pdf":
        return Response(to_pdf(built), media_type="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="incident-{incident_id}.pdf"'})
    return Response(to_markdown(built), media_type="text/markdown; charset=utf-8")
