"""Publishing, listing and withdrawing announcements; the languages a controller's page is offered in."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from charter.accounts.services import ControllerService
from charter.announcements.models import Announcement, AnnouncementKind
from charter.audit.services import AuditLog
from charter.core.db import utcnow
from charter.core.errors import CharterError, Conflict, NotFound
from charter.core.i18n import Lang, Text
from charter.policy.schema import PolicyVersion
from charter.policy.services import policy_in_force

__all__ = ["Announcements", "offered_languages", "policy_in_force", "text_of"]

MAX_TITLE = 200
MAX_BODY = 20_000


def text_of(stored: dict[str, str]) -> Text:
    return Text(zh=stored["zh"], en=stored["en"], zh_tw=stored.get("zh_tw"))


def _stored(text: Text) -> dict[str, str]:
    out = {"zh": text.zh, "en": text.en}
    if text.zh_tw:
        out["zh_tw"] = text.zh_tw
    return out


def offered_languages(policy: PolicyVersion | None) -> list[Lang]:
    """The policy's languages (Traditional Chinese too for a Hong Kong policy), zh-CN and en at least."""
    langs = [Lang.ZH_CN, Lang.EN]
    if policy is not None:
        for code in policy.languages:
            try:
                langs.append(Lang.parse(code))
            except ValueError:
                continue
        if "HK" in policy.jurisdictions:
            langs.append(Lang.ZH_TW)
        first = Lang.parse(policy.languages[0]) if policy.languages else Lang.ZH_CN
        langs.insert(0, first)
    return list(dict.fromkeys(langs))


@dataclass(frozen=True)
class _Checked:
    title: Text
    body: Text


class Announcements:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.audit = AuditLog(session)

    def publish(self, controller_id: str, *, kind: AnnouncementKind | str, title: Text, body: Text, actor: str,
                source: str | None = None) -> Announcement:
        """Publish on the controller's public page (`/announcements/{controller}`), in every language it offers.

        Example: `Announcements(session).publish("acme", kind="notice", title=Text(zh="停机维护", en="Maintenance"),
        body=Text(zh="…", en="…"), actor="dpo")`
        """
        ControllerService(self.session).get(controller_id)
        try:
            kind = AnnouncementKind(kind)
        except ValueError as exc:
            raise CharterError(f"unknown announcement kind {kind!r}", field="kind",
                               fix=f"Use one of: {', '.join(k.value for k in AnnouncementKind)}.") from exc
        checked = self._check(controller_id, title, body)
        row = Announcement(id=str(uuid.uuid4()), controller_id=controller_id, kind=kind.value,
                           title=_stored(checked.title), body=_stored(checked.body), source=source,
                           published_by=actor)
        self.session.add(row)
        self.session.flush()
        self.audit.record(controller_id, actor=actor, action="announcement.published",
                          target=f"announcement:{row.id}", data={"kind": kind.value, "source": source})
        return row

    def _check(self, controller_id: str, title: Text, body: Text) -> _Checked:
        needs_tw = Lang.ZH_TW in offered_languages(policy_in_force(self.session, controller_id))
        for name, text, limit in (("title", title, MAX_TITLE), ("body", body, MAX_BODY)):
            for lang, value in (("zh", text.zh), ("en", text.en), ("zh_tw", text.zh_tw)):
                if value is None:
                    if lang == "zh_tw" and needs_tw:
                        raise CharterError(f"the announcement's {name} has no Traditional Chinese version",
                                           field=f"{name}.zh_tw", fix="The policy is published in zh-TW: give it.")
                    continue
                if not value.strip():
                    raise CharterError(f"the announcement's {name} is empty in {lang}", field=f"{name}.{lang}",
                                       fix="Every announcement is published in Chinese and English.")
                if len(value) > limit:
                    raise CharterError(f"the announcement's {name} is longer than {limit} characters",
                                       field=f"{name}.{lang}")
        return _Checked(title, body)

    def get(self, controller_id: str, announcement_id: str) -> Announcement:
        row = self.session.get(Announcement, announcement_id)
        if row is None or row.controller_id != controller_id:
            raise NotFound(f"no announcement {announcement_id!r}")
        return row

    def published(self, controller_id: str, *, include_withdrawn: bool = False,
                  limit: int = 100) -> list[Announcement]:
        """Newest first."""
        q = select(Announcement).where(Announcement.controller_id == controller_id)
        if not include_withdrawn:
            q = q.where(Announcement.withdrawn_at.is_(None))
        return list(self.session.execute(
            q.order_by(Announcement.published_at.desc(), Announcement.id).limit(limit)).scalars())

    def by_source(self, controller_id: str, source: str) -> Announcement | None:
        return self.session.execute(select(Announcement).where(
            Announcement.controller_id == controller_id, Announcement.source == source,
            Announcement.withdrawn_at.is_(None)).order_by(Announcement.published_at.desc()).limit(1)
        ).scalar_one_or_none()

    def withdraw(self, controller_id: str, announcement_id: str, *, actor: str) -> Announcement:
        row = self.get(controller_id, announcement_id)
        if row.withdrawn_at is not None:
            raise Conflict("this announcement was already withdrawn")
        row.withdrawn_at, row.withdrawn_by = utcnow(), actor
        self.audit.record(controller_id, actor=actor, action="announcement.withdrawn",
                          target=f"announcement:{row.id}")
        return row
