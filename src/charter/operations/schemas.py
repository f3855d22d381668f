"""The operations over HTTP."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from charter.operations.models import CompelledDisclosure, ControllerTransfer, PolicyChange, Shutdown


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TransferCreate(_In):
    new_holder: str = Field(description="Who receives the data")
    new_holder_contact: str = Field(description="How people reach the new holder")
    transfer_date: dt.date = Field(description="When the data moves; people are told before it")


class NotifyIn(_In):
    announce: bool = Field(default=False, description="Also publish it on the public announcements page")
    dry_run: bool = False


class UndertakingIn(_In):
    text: str = Field(description="The new holder's written undertaking")
    signed_by: str = Field(description="Who signed it for the new holder")
    signed_at: dt.datetime | None = None


class DryRunIn(_In):
    dry_run: bool = False


class TransferOut(BaseModel):
    id: str
    new_holder: str
    new_holder_contact: str
    transfer_date: dt.date
    notified_at: dt.datetime | None
    notice_counts: dict[str, Any] | None
    announcement_id: str | None
    undertaking_sha256: str | None
    undertaking_signed_by: str | None
    undertaking_signed_at: dt.datetime | None
    handed_over_at: dt.datetime | None

    @classmethod
    def of(cls, t: ControllerTransfer) -> TransferOut:
        return cls(id=t.id, new_holder=t.new_holder, new_holder_contact=t.new_holder_contact,
                   transfer_date=t.transfer_date, notified_at=t.notified_at, notice_counts=t.notice_counts,
                   announcement_id=t.announcement_id, undertaking_sha256=t.undertaking_sha256,
                   undertaking_signed_by=t.undertaking_signed_by, undertaking_signed_at=t.undertaking_signed_at,
                   handed_over_at=t.handed_over_at)


class IdentityIn(_In):
    kind: str
    value: str


class DisclosureCreate(_In):
    subject_id: str | None = Field(default=None, description="The person whose data was disclosed")
    identity: IdentityIn | None = Field(default=None, description="…or an identity of theirs")
    authority: str = Field(description="Who compelled the disclosure")
    grounds: str = Field(description="The law, order or request it rests on")
    reference: str | None = None
    disclosed_at: dt.datetime
    categories: list[str] = Field(description="The policy's categories disclosed")
    description: str | None = None
    restriction_basis: str | None = Field(default=None, description="The lawful restriction on telling the person")
    restricted_until: dt.datetime | None = Field(default=None, description="When the restriction ends")


class DisclosureOut(BaseModel):
    id: str
    subject_id: str
    authority: str
    grounds: str
    reference: str | None
    disclosed_at: dt.datetime
    categories: list[str]
    restriction_basis: str | None
    restricted_until: dt.datetime | None
    notified_at: dt.datetime | None
    notice_counts: dict[str, Any] | None

    @classmethod
    def of(cls, d: CompelledDisclosure) -> DisclosureOut:
        return cls(id=d.id, subject_id=d.subject_id, authority=d.authority, grounds=d.grounds,
                   reference=d.reference, disclosed_at=d.disclosed_at, categories=d.categories,
                   restriction_basis=d.restriction_basis, restricted_until=d.restricted_until,
                   notified_at=d.notified_at, notice_counts=d.notice_counts)


class CeaseIn(_In):
    reason: str
    last_day: dt.date = Field(description="People's data is erased after this day")
    dry_run: bool = False


class CeaseNotifyIn(_In):
    individually: bool = True
    announce: bool = True
    dry_run: bool = False


class ShutdownOut(BaseModel):
    id: str
    reason: str
    stopped_at: dt.datetime
    last_day: dt.date
    notified_at: dt.datetime | None
    notice_counts: dict[str, Any] | None
    announcement_id: str | None
    erased_at: dt.datetime | None
    erasure_run_id: str | None

    @classmethod
    def of(cls, s: Shutdown) -> ShutdownOut:
        return cls(id=s.id, reason=s.reason, stopped_at=s.stopped_at, last_day=s.last_day, notified_at=s.notified_at,
                   notice_counts=s.notice_counts, announcement_id=s.announcement_id, erased_at=s.erased_at,
                   erasure_run_id=s.erasure_run_id)


class ExportIn(_In):
    collection: str = Field(description="`dataset.collection` of the data map")
    generalise: list[str] = Field(default_factory=list, description="e.g. birth_date=year, postcode=keep_chars:3")
    dry_run: bool = False


class ChangeOut(BaseModel):
    id: str
    from_version: str
    to_version: str
    effective: dt.date
    needs_consent: bool
    purposes: list[str]
    summary: list[dict[str, str]]
    status: str
    notified_at: dt.datetime | None
    announcement_id: str | None
    renewals: int | None

    @classmethod
    def of(cls, c: PolicyChange) -> ChangeOut:
        return cls(id=c.id, from_version=c.from_version, to_version=c.to_version, effective=c.effective,
                   needs_consent=c.needs_consent, purposes=c.purposes, summary=c.summary, status=c.status,
                   notified_at=c.notified_at, announcement_id=c.announcement_id, renewals=c.renewals)
