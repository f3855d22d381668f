"""Incidents over HTTP."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from charter.incidents.clocks import ClockState
from charter.incidents.models import Incident, IncidentFiling, IncidentNotice


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IncidentCreate(_In):
    title: str = Field(description="A short name for the incident")
    found_by: str = Field(description="Who found it")
    discovered_at: dt.datetime = Field(description="When the controller became aware: the clocks start here")
    location: str = Field(description="Where it happened (site, system, supplier)")
    description: str = Field(description="What happened")
    categories: list[str] = Field(description="The policy's categories of personal information involved")
    systems: list[str] = Field(description="Data map systems, datasets or `dataset.collection` involved")
    people_estimate: int = Field(description="How many people are involved, as first estimated")
    police_informed: bool = Field(description="Whether the police were told")
    occurred_from: dt.datetime | None = None
    occurred_until: dt.datetime | None = Field(default=None, description="Rows collected after this are left out")
    police_reference: str | None = None
    is_significant: bool = Field(default=False, description="A significant incident (CN 4-hour report)")
    is_critical_infrastructure: bool = False


class TextIn(_In):
    zh: str
    en: str
    zh_tw: str | None = None


class NoticeCreate(_In):
    elements: dict[str, TextIn] = Field(description="Element code → its text (contact defaults to the policy's)")
    channels: list[str] = Field(default_factory=list, description="email, sms, push, in_app")
    announce: bool = Field(default=False, description="Also publish it on the public announcements page")


class FilingCreate(_In):
    clock: str = Field(description="The clock this filing stops, e.g. significant_incident")
    authority: str = Field(description="Who it was reported to")
    reference: str | None = None
    filed_at: dt.datetime | None = Field(default=None, description="When (default: now)")


class ClockOut(BaseModel):
    code: str
    label: dict[str, str]
    hours: int
    citation: str
    due_at: dt.datetime
    status: str
    filed_at: dt.datetime | None

    @classmethod
    def of(cls, state: ClockState) -> ClockOut:
        return cls(code=state.code, label={"zh": state.label.zh, "en": state.label.en}, hours=state.hours,
                   citation=state.citation, due_at=state.due_at, status=state.status.value, filed_at=state.filed_at)


class NoticeOut(BaseModel):
    id: str
    incident_id: str
    status: str
    channels: list[str]
    announce: bool
    elements: dict[str, dict[str, str]]
    created_at: dt.datetime
    sent_at: dt.datetime | None
    counts: dict[str, Any] | None
    announcement_id: str | None

    @classmethod
    def of(cls, notice: IncidentNotice) -> NoticeOut:
        return cls(id=notice.id, incident_id=notice.incident_id, status=notice.status, channels=notice.channels,
                   announce=notice.announce, elements=notice.elements, created_at=notice.created_at,
                   sent_at=notice.sent_at, counts=notice.counts, announcement_id=notice.announcement_id)


class FilingOut(BaseModel):
    id: str
    clock: str
    authority: str
    reference: str | None
    filed_at: dt.datetime
    filed_by: str

    @classmethod
    def of(cls, filing: IncidentFiling) -> FilingOut:
        return cls(id=filing.id, clock=filing.clock, authority=filing.authority, reference=filing.reference,
                   filed_at=filing.filed_at, filed_by=filing.filed_by)


class IncidentOut(BaseModel):
    id: str
    reference: str
    title: str
    status: str
    found_by: str
    discovered_at: dt.datetime
    occurred_from: dt.datetime | None
    occurred_until: dt.datetime | None
    location: str
    description: str
    categories: list[str]
    systems: list[str]
    people_estimate: int
    police_informed: bool
    police_reference: str | None
    is_significant: bool
    is_critical_infrastructure: bool
    jurisdictions: list[str]
    affected_count: int | None
    affected_resolved_at: dt.datetime | None
    resolution: dict[str, Any] | None
    clocks: list[ClockOut]
    created_at: dt.datetime
    closed_at: dt.datetime | None

    @classmethod
    def of(cls, incident: Incident, clocks: list[ClockState]) -> IncidentOut:
        return cls(id=incident.id, reference=incident.reference, title=incident.title, status=incident.status,
                   found_by=incident.found_by, discovered_at=incident.discovered_at,
                   occurred_from=incident.occurred_from, occurred_until=incident.occurred_until,
                   location=incident.location, description=incident.description, categories=incident.categories,
                   systems=incident.systems, people_estimate=incident.people_estimate,
                   police_informed=incident.police_informed, police_reference=incident.police_reference,
                   is_significant=incident.is_significant,
                   is_critical_infrastructure=incident.is_critical_infrastructure,
                   jurisdictions=incident.jurisdictions, affected_count=incident.affected_count,
                   affected_resolved_at=incident.affected_resolved_at, resolution=incident.resolution,
                   clocks=[ClockOut.of(c) for c in clocks], created_at=incident.created_at,
                   closed_at=incident.closed_at)


class OverdueOut(BaseModel):
    incident_id: str
    reference: str
    title: str
    clock: ClockOut
