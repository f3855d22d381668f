"""The public page of a controller's announcements, as HTML (in each language it offers) and as JSON. Pure: it takes
the stored announcements and the policy in force; the web layer reads them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from babel.dates import format_datetime
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from charter.announcements.models import Announcement, AnnouncementKind
from charter.announcements.services import offered_languages, text_of
from charter.core.i18n import Lang, Text
from charter.policy.schema import PolicyVersion

__all__ = ["as_json", "choose_language", "render_page"]

_ENV = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), undefined=StrictUndefined,
                   autoescape=True, trim_blocks=True, lstrip_blocks=True)
_BABEL = {Lang.ZH_CN: "zh_Hans_CN", Lang.ZH_TW: "zh_Hant_TW", Lang.EN: "en"}
_LABELS = {Lang.ZH_CN: "简体中文", Lang.ZH_TW: "繁體中文", Lang.EN: "English"}
UI = {
    "title": Text("公告", "Announcements", "公告"),
    "none": Text("目前没有公告。", "There are no announcements.", "目前沒有公告。"),
    "contact": Text("如有疑问，请联系我们：", "Questions? Contact us:", "如有疑問，請聯絡我們："),
    "languages": Text("语言", "Languages", "語言"),
}
KINDS = {
    AnnouncementKind.INCIDENT: Text("安全事件", "Security incident", "安全事件"),
    AnnouncementKind.POLICY_CHANGE: Text("政策变更", "Policy change", "政策變更"),
    AnnouncementKind.TRANSFER: Text("控制者变更", "Change of controller", "控制者變更"),
    AnnouncementKind.SHUTDOWN: Text("停止运营", "End of service", "停止營運"),
    AnnouncementKind.NOTICE: Text("通知", "Notice", "通知"),
}


def choose_language(asked: str | None, accept_language: str | None, offered: Sequence[Lang]) -> Lang:
    """`?lang=` if offered, else the first offered language the browser accepts, else the policy's first."""
    for candidate in [asked] if asked else _accepted(accept_language):
        try:
            lang = Lang.parse(candidate)
        except ValueError:
            continue
        if lang in offered:
            return lang
    return offered[0]


def _accepted(header: str | None) -> list[str]:
    weighted = []
    for part in (header or "").split(","):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if tag:
            weighted.append((q, tag))
    return [tag for _q, tag in sorted(weighted, key=lambda item: -item[0])]


def _paragraphs(text: str) -> list[str]:
    return [" ".join(p.split("\n")).strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]


def _when(at: dt.datetime, lang: Lang) -> str:
    at = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
    return str(format_datetime(at, format="medium", tzinfo=dt.UTC, locale=_BABEL[lang])) + " UTC"


def render_page(controller_id: str, fallback_name: str, policy: PolicyVersion | None,
                items: Sequence[Announcement], lang: Lang) -> str:
    base = f"/announcements/{quote(controller_id)}"
    name = policy.controller.name.get(lang) if policy else fallback_name
    contacts = [{"label": c.label.get(lang), "value": c.value} for c in policy.controller.contacts] if policy else []
    context: dict[str, Any] = {
        "lang": lang.value, "controller_name": name, "json_url": f"{base}.json", "contacts": contacts,
        "ui": {key: text.get(lang) for key, text in UI.items()},
        "languages": [{"code": o.value, "label": _LABELS[o], "url": f"{base}?lang={o.value}"}
                      for o in offered_languages(policy)],
        "items": [{"id": a.id, "kind": a.kind, "kind_label": KINDS[AnnouncementKind(a.kind)].get(lang),
                   "title": text_of(a.title).get(lang), "paragraphs": _paragraphs(text_of(a.body).get(lang)),
                   "published": _when(a.published_at, lang), "published_iso": a.published_at.isoformat()}
                  for a in items],
    }
    return _ENV.get_template("page.html").render(context)


def as_json(controller_id: str, policy: PolicyVersion | None, items: Sequence[Announcement]) -> dict[str, Any]:
    return {
        "controller": controller_id,
        "languages": [lang.value for lang in offered_languages(policy)],
        "announcements": [{"id": a.id, "kind": a.kind, "title": a.title, "body": a.body, "source": a.source,
                           "published_at": a.published_at.isoformat()} for a in items],
    }
