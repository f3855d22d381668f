"""The published text of a policy version, in Markdown or as a standalone HTML page, in zh-CN, zh-TW or en.

Clause bodies are Markdown. They are rendered with raw HTML switched off, so text in a policy can never inject
markup into the page; everything else is escaped.
"""

from __future__ import annotations

import datetime as dt
import re
from html import escape

from markdown_it import MarkdownIt

from charter.core.i18n import Lang, Text
from charter.policy.schema import Clause, PolicyVersion

__all__ = ["clause_anchors", "render_html", "render_markdown"]

_TITLE = Text("隐私政策", "Privacy Policy", "私隱政策")
_VERSION = Text("版本", "Version", "版本")
_EFFECTIVE = Text("生效日期", "Effective", "生效日期")
_CONTENTS = Text("目录", "Contents", "目錄")
_CONTACTS = Text("联系我们", "Contact us", "聯絡我們")
_ADDRESS = Text("地址", "Address", "地址")
_WEBSITE = Text("网站", "Website", "網站")

_markdown = MarkdownIt("commonmark", {"html": False})


def _lang(lang: Lang | str) -> Lang:
    return lang if isinstance(lang, Lang) else Lang.parse(lang)


def _colon(lang: Lang) -> str:
    return ": " if lang is Lang.EN else "："


def _date(day: dt.date, lang: Lang) -> str:
    if lang is Lang.EN:
        return day.isoformat()
    return f"{day.year}年{day.month}月{day.day}日"


def clause_anchors(policy: PolicyVersion) -> dict[str, str]:
    """Clause id → a unique HTML id usable in a URL fragment: `5.(3)` → `clause-5-3`."""
    anchors: dict[str, str] = {}
    for clause in policy.clauses:
        if clause.id in anchors:
            continue
        base = "clause-" + (re.sub(r"[^A-Za-z0-9]+", "-", clause.id).strip("-").lower() or "x")
        anchor, n = base, 1
        while anchor in anchors.values():
            n += 1
            anchor = f"{base}-{n}"
        anchors[clause.id] = anchor
    return anchors


# --- Markdown ----------------------------------------------------------------------------------------------


def render_markdown(policy: PolicyVersion, lang: Lang | str) -> str:
    """The policy as one Markdown document: title, version and date, each clause, then the contacts."""
    lang = _lang(lang)
    controller = policy.controller
    parts = [
        f"# {controller.name.get(lang)} · {_TITLE.get(lang)}",
        f"{_VERSION.get(lang)}{_colon(lang)}{policy.version} · "
        f"{_EFFECTIVE.get(lang)}{_colon(lang)}{_date(policy.effective, lang)}",
    ]
    for clause in policy.clauses:
        parts.append(f"## {clause.title.get(lang)}")
        parts.append(clause.body.get(lang).strip())
    parts.append(f"## {_CONTACTS.get(lang)}")
    parts.append("\n".join(_markdown_contacts(policy, lang)))
    return "\n\n".join(parts) + "\n"


def _markdown_contacts(policy: PolicyVersion, lang: Lang) -> list[str]:
    controller = policy.controller
    rows = [(contact.label.get(lang), contact.value) for contact in controller.contacts]
    rows += [(_ADDRESS.get(lang), controller.address.get(lang)), (_WEBSITE.get(lang), controller.website)]
    return [f"- {label}{_colon(lang)}{value}" for label, value in rows]


# --- HTML --------------------------------------------------------------------------------------------------

_STYLE = (
    "body{font-family:system-ui,sans-serif;line-height:1.6;max-width:48rem;margin:2rem auto;padding:0 1rem}"
    "nav ol{padding-left:1.2rem}dt{font-weight:600}"
)


def render_html(policy: PolicyVersion, lang: Lang | str) -> str:
    """A complete HTML page: escaped text, clause ids as anchors, Markdown bodies without raw HTML."""
    lang = _lang(lang)
    title = f"{policy.controller.name.get(lang)} · {_TITLE.get(lang)}"
    anchors = clause_anchors(policy)
    body = "\n".join(
        [
            _html_header(policy, lang, title),
            _html_contents(policy, lang, anchors),
            *(_html_clause(clause, lang, anchors[clause.id]) for clause in policy.clauses),
            _html_contacts(policy, lang),
        ]
    )
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{escape(lang.value)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n"
        f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def _html_header(policy: PolicyVersion, lang: Lang, title: str) -> str:
    day = policy.effective
    return (
        f"<header>\n<h1>{escape(title)}</h1>\n<p>{escape(_VERSION.get(lang) + _colon(lang))}"
        f'<span class="version">{escape(policy.version)}</span> · {escape(_EFFECTIVE.get(lang) + _colon(lang))}'
        f'<time datetime="{day.isoformat()}">{escape(_date(day, lang))}</time></p>\n</header>'
    )


def _html_contents(policy: PolicyVersion, lang: Lang, anchors: dict[str, str]) -> str:
    items = "\n".join(f'<li><a href="#{anchors[c.id]}">{escape(c.title.get(lang))}</a></li>' for c in policy.clauses)
    return f'<nav aria-label="{escape(_CONTENTS.get(lang))}">\n<ol>\n{items}\n</ol>\n</nav>'


def _html_clause(clause: Clause, lang: Lang, anchor: str) -> str:
    return (
        f'<section id="{anchor}" data-clause="{escape(clause.id)}">\n'
        f"<h2>{escape(clause.title.get(lang))}</h2>\n{_markdown.render(clause.body.get(lang))}</section>"
    )


def _html_contacts(policy: PolicyVersion, lang: Lang) -> str:
    controller = policy.controller
    rows = [(contact.label.get(lang), contact.value) for contact in controller.contacts]
    rows += [(_ADDRESS.get(lang), controller.address.get(lang)), (_WEBSITE.get(lang), controller.website)]
    items = "\n".join(f"<dt>{escape(label)}</dt><dd>{escape(value)}</dd>" for label, value in rows)
    return f'<section id="contacts">\n<h2>{escape(_CONTACTS.get(lang))}</h2>\n<dl>\n{items}\n</dl>\n</section>'
