"""Legal holds and sweeps over HTTP: what comes in and what goes out."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from charter.retention.models import LegalHold, RetentionRun


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IdentityIn(_In):
    kind: str = Field(description="email, phone, account_id or visitor_id")
    value: str


class HoldIn(_In):
    dataset: str = Field(description="the data map's dataset the hold covers")
    collection: str | None = Field(default=None, description="only this collection of the dataset")
    subject_id: str | None = Field(default=None, description="only this person's rows")
    identity: IdentityIn | None = Field(default=None, description="only the rows of the person known by this")
    reason: str = Field(description="why the data must be kept")
    expires_at: dt.datetime = Field(description="when the hold ends; in the future")
    placed_by: str | None = Field(default=None, max_length=200, description="who places it (default: the API key)")


class HoldOut(BaseModel):
    id: str
    dataset: str
    collection: str | None
    subject_id: str | None
    reason: str
    placed_by: str
    expires_at: dt.datetime
    created_at: dt.datetime
    released_at: dt.datetime | None
    released_by: str | None

    @classmethod
    def of(cls, hold: LegalHold) -> HoldOut:
        return cls(id=hold.id, dataset=hold.dataset, collection=hold.collection, subject_id=hold.subject_id,
                   reason=hold.reason, placed_by=hold.placed_by, expires_at=hold.expires_at,
                   created_at=hold.created_at, released_at=hold.released_at, released_by=hold.released_by)


class SweepIn(_In):
    dry_run: bool = Field(default=True, description="count what would be erased and change nothing")


class RunOut(BaseModel):
    id: str
    kind: str
    is_dry_run: bool
    datamap_version: str
    started_at: dt.datetime
    finished_at: dt.datetime
    rows_deleted: int
    rows_changed: int
    errors: int
    outcomes: list[dict[str, object]]
    actor: str

    @classmethod
    def of(cls, run: RetentionRun) -> RunOut:
        return cls(id=run.id, kind=run.kind, is_dry_run=run.is_dry_run, datamap_version=run.datamap_version,
                   started_at=run.started_at, finished_at=run.finished_at, rows_deleted=run.rows_deleted,
                   rows_changed=run.rows_changed, errors=run.errors, outcomes=run.outcomes, actor=run.actor)
