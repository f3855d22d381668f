"""The message templates: a registry, rendering in a person's language, and the marketing-mail rules.

Each template is one Jinja2 file per language (`templates/<lang>/<id>.jinja`) with three blocks — `subject`,
`text` and `html` — extending `templates/_layout.jinja`. The same file is compiled twice: with autoescaping for
the HTML part and without it for the subject and plain text. Pure: no database, no network.

    rendered = render("verification_code", Lang.EN, {"code": "042917", "expires_minutes": 10,
                                                     "controller_name": "Lubpur"})
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from babel.dates import format_date
from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, TemplateNotFound, UndefinedError

from charter.core.errors import CharterError
from charter.core.i18n import Lang, Text

TEMPLATE_DIR = Path(__file__).parent / "templates"
_BLOCKS = ("subject", "text", "html")
_BABEL_LOCALE = {Lang.ZH_CN: "zh_Hans_CN", Lang.ZH_TW: "zh_Hant_TW", Lang.EN: "en"}


@dataclass(frozen=True)
class TemplateSpec:
    id: str
    required: frozenset[str]
    optional: frozenset[str] = frozenset()
    is_marketing: bool = False


def _spec(template_id: str, required: str, optional: str = "", *, is_marketing: bool = False) -> TemplateSpec:
    return TemplateSpec(template_id, frozenset(required.split()), frozenset(optional.split()), is_marketing)


TEMPLATES: dict[str, TemplateSpec] = {s.id: s for s in (
    _spec("verification_code", "code expires_minutes"),
    _spec("request_received", "reference request_type", "due_date"),
    _spec("request_completed", "reference request_type", "held_items"),
    _spec("request_refused", "reference request_type ground", "explanation"),
    _spec("decision_explanation", "reference request_type decision outcome logic_version made_on explanation",
          "inputs"),
    _spec("appeal_resolved", "reference request_type outcome note"),
    _spec("recipient_notice", "reference action categories ack_token"),
    _spec("policy_change", "effective changes", "needs_consent policy_url"),
    # The elements each jurisdiction requires are enforced by the incident notices (issue 8), not here.
    _spec("breach_notice", "elements contact", "occurred"),
    _spec("controller_transfer", "new_holder transfer_date contact", "new_holder_contact undertaking"),
    _spec("disclosure_notice", "authority grounds categories disclosed_on contact", "reference"),
    _spec("service_shutdown", "stopped_on last_day contact"),
    _spec("newsletter", "title paragraphs", "link_url link_text", is_marketing=True),
)}

# Every message carries the controller's name and contact; the outbox fills them in.
CONTEXT_PARAMS = frozenset({"controller_name", "controller_contact"})

# The Internet Email Services Measures name exactly these two words; zh-TW readers get the Latin one.
AD_PREFIX = Text(zh="广告：", en="AD: ", zh_tw="AD：")

UI: dict[str, Text] = {
    "sent_by": Text(zh="发件方：", en="Sent by: ", zh_tw="發件方："),
    "contact": Text(zh="联系方式：", en="Contact: ", zh_tw="聯絡方式："),
    "unsubscribe": Text(zh="退订", en="Unsubscribe", zh_tw="退訂"),
    "unsubscribe_hint": Text(zh="不想再收到此类邮件？一键退订：", zh_tw="不想再收到此類郵件？一鍵退訂：",
                             en="Don't want these emails? Unsubscribe in one click:"),
    "automatic": Text(zh="此邮件由系统自动发送，请勿直接回复。", zh_tw="此郵件由系統自動發送，請勿直接回覆。",
                      en="This message was sent automatically; please do not reply."),
}


@dataclass(frozen=True)
class Marketing:
    """What every marketing message must carry (Advertising Law art. 43; Internet Email Services Measures)."""

    sender_name: str
    sender_contact: str
    unsubscribe_url: str
    """Opening it (GET shows, POST confirms) stops further mail at once; also sent as `List-Unsubscribe`."""
    needs_ad_prefix: bool = True
    """Start the subject with 广告/AD, as the decision's obligation says."""
    allow_tracking: bool = False
    """Include the open-tracking pixel; only for people who allowed it."""
    tracking_pixel_url: str | None = None

    def validate(self) -> None:
        if not self.sender_name.strip() or not self.sender_contact.strip():
            raise CharterError("a marketing message must name its sender and a contact", field="marketing",
                               fix="Give sender_name and sender_contact (Advertising Law art. 43).")
        _require_http_url(self.unsubscribe_url, "marketing.unsubscribe_url")
        if self.allow_tracking and self.tracking_pixel_url:
            _require_http_url(self.tracking_pixel_url, "marketing.tracking_pixel_url")

    @property
    def pixel(self) -> str | None:
        return self.tracking_pixel_url if self.allow_tracking else None


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    headers: dict[str, str] = field(default_factory=dict)


def _require_http_url(url: str, name: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CharterError(f"{name} is not an http(s) URL", field=name, fix="Give an absolute https:// URL.")


def _localise(value: Any, lang: Lang) -> Any:
    """`Text` values anywhere in the parameters become the message's language."""
    if isinstance(value, Text):
        return value.get(lang)
    if isinstance(value, Mapping):
        return {k: _localise(v, lang) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_localise(v, lang) for v in value]
    return value


def _environment(*, autoescape: bool) -> Environment:
    # The subject and plain-text parts are not HTML; only the HTML environment escapes. The templates ship with the
    # package: no need to look at their files again (auto_reload) each time one is used.
    env = Environment(loader=FileSystemLoader(TEMPLATE_DIR), undefined=StrictUndefined,
                      autoescape=autoescape,  # noqa: S701
                      trim_blocks=True, lstrip_blocks=True, auto_reload=False)
    env.filters["longdate"] = _longdate
    return env


def _longdate(value: dt.date | str, lang: str) -> str:
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    return _long_date(value, lang)


@functools.lru_cache(maxsize=1024)
def _long_date(value: dt.date, lang: str) -> str:
    """Babel's formatting costs more than the rest of a message: the same few dates come up again and again."""
    return str(format_date(value, format="long", locale=_BABEL_LOCALE[Lang.parse(lang)]))


_TEXT_ENV = _environment(autoescape=False)
_HTML_ENV = _environment(autoescape=True)
_UI_IN: dict[Lang, dict[str, str]] = {lang: {k: v.get(lang) for k, v in UI.items()} for lang in Lang}


def _subject(template: Template, context: dict[str, Any]) -> str:
    """Only the template's subject block: the layout around it adds nothing but whitespace, folded away here."""
    return " ".join("".join(template.blocks["subject"](template.new_context(context))).split())


def _tidy_text(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


def spec_of(template_id: str) -> TemplateSpec:
    spec = TEMPLATES.get(template_id)
    if spec is None:
        raise CharterError(f"no message template {template_id!r}", field="template",
                           fix=f"Use one of: {', '.join(sorted(TEMPLATES))}.")
    return spec


def _check_params(spec: TemplateSpec, params: Mapping[str, object]) -> None:
    given = set(params) - CONTEXT_PARAMS
    missing, unknown = spec.required - given, given - spec.required - spec.optional
    if missing:
        raise CharterError(f"template {spec.id!r} needs {', '.join(sorted(missing))}", field="params",
                           fix="Pass every parameter the template names.")
    if unknown:
        raise CharterError(f"template {spec.id!r} takes no {', '.join(sorted(unknown))}", field="params",
                           fix=f"It takes: {', '.join(sorted(spec.required | spec.optional))}.")


def render(template_id: str, language: Lang | str, params: Mapping[str, object], *,
           marketing: Marketing | None = None) -> Rendered:
    """Render a template in one language. Marketing templates need `marketing`; others must not have it."""
    spec, lang = spec_of(template_id), Lang.parse(language) if isinstance(language, str) else language
    _check_params(spec, params)
    if spec.is_marketing != (marketing is not None):
        need = "needs" if spec.is_marketing else "is not marketing and takes no"
        raise CharterError(f"template {template_id!r} {need} marketing details", field="marketing",
                           fix="Pass marketing=Marketing(...) exactly for marketing templates.")
    if marketing is not None:
        marketing.validate()
    context: dict[str, Any] = dict.fromkeys(spec.optional) | {"controller_contact": ""}
    context |= _localise(dict(params), lang)
    context |= {"lang": lang.value, "marketing": marketing, "ui": _UI_IN[lang],
                "pixel": marketing.pixel if marketing else None}
    name = f"{lang.value}/{template_id}.jinja"
    try:
        plain = _TEXT_ENV.get_template(name)
        subject = _subject(plain, context)
        text = _tidy_text(plain.render(context, part="text"))
        html = _HTML_ENV.get_template(name).render(context, part="html").strip() + "\n"
    except UndefinedError as exc:
        raise CharterError(f"template {template_id!r} ({lang.value}) could not be filled: {exc.message}",
                           field="params") from exc
    headers: dict[str, str] = {}
    if marketing is not None:
        if marketing.needs_ad_prefix:
            subject = AD_PREFIX.get(lang) + subject
        headers = {"List-Unsubscribe": f"<{marketing.unsubscribe_url}>",
                   "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    return Rendered(subject, text, html, headers)


def check_templates() -> list[str]:
    """Every registered template exists in every language with all three blocks; each problem as a sentence."""
    problems = []
    for template_id in sorted(TEMPLATES):
        for lang in Lang:
            name = f"{lang.value}/{template_id}.jinja"
            try:
                blocks = set(_TEXT_ENV.get_template(name).blocks)
            except TemplateNotFound:
                problems.append(f"{template_id} has no {lang.value} version ({TEMPLATE_DIR / name})")
                continue
            missing = [b for b in _BLOCKS if b not in blocks]
            if missing:
                problems.append(f"{name} lacks the block(s) {', '.join(missing)}")
    strays = {p.stem for p in TEMPLATE_DIR.glob("*/*.jinja")} - set(TEMPLATES)
    problems.extend(f"template file {s}.jinja is not registered in TEMPLATES" for s in sorted(strays))
    return problems
