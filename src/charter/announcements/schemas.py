"""Announcements over HTTP."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from charter.announcements.models import Announcement, AnnouncementKind


class TextIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    zh: str
    en: str
    zh_tw: str | None = None


class AnnouncementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: AnnouncementKind = AnnouncementKind.NOTICE
    title: TextIn
    body: TextIn = Field(description="Plain text; a blank line starts a new paragraph")


class AnnouncementOut(BaseModel):
    id: str
    kind: str
    title: dict[str, str]
    body: dict[str, str]
    source: str | None
    published_at: dt.datetime
    published_by: str
    withdrawn_at: dt.datetime | None

    @classmethod
    def of(cls, row: Announcement) -> AnnouncementOut:
        return cls(id=row.id, kind=row.kind, title=row.title, body=row.body, source=row.source,
                   published_at=row.published_at, published_by=row.published_by, withdrawn_at=row.withdrawn_at)
