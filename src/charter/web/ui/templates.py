"""Rendering pages: one Jinja2 environment with Babel's gettext, filters for our types, and `render()`.

Templates live in `charter/web/templates/` (`ui/` shared layout and partials, `admin/`, `center/`, `errors/`);
the stylesheet and script in `charter/web/assets/`, served under `/assets`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context
from markdown_it import MarkdownIt
from markupsafe import Markup

from charter.core.i18n import Lang, Text
from charter.web.ui.csrf import FIELD as CSRF_FIELD
from charter.web.ui.csrf import csrf_token, set_nonce_cookie
from charter.web.ui.i18n import LANG_COOKIE, NAMES, Catalogues, long_date, negotiate, utc_time
from charter.web.ui.nav import current_path

WEB_DIR = Path(__file__).resolve().parents[1]
TEMPLATES_DIR = WEB_DIR / "templates"
ASSETS_DIR = WEB_DIR / "assets"

# Clause bodies are Markdown from the policy; raw HTML stays off so a policy cannot inject markup.
_markdown = MarkdownIt("commonmark", {"html": False})


@dataclass(frozen=True)
class Ui:
    """What every page needs, kept on `app.state.ui`."""

    env: Environment
    catalogues: Catalogues
    secret: bytes
    """Signs cookies and form tokens; derived from the keyring so every worker shares it."""


@pass_context
def _gettext(ctx: Context, message: str) -> str:
    return str(ctx["i18n"].gettext(message))


@pass_context
def _ngettext(ctx: Context, singular: str, plural: str, n: int) -> str:
    return str(ctx["i18n"].ngettext(singular, plural, n))


@pass_context
def _text(ctx: Context, value: Text | None) -> str:
    return "" if value is None else value.get(ctx["lang"])


@pass_context
def _date(ctx: Context, day: dt.date) -> str:
    return long_date(day, ctx["lang"])


def _render_markdown(text: str) -> Markup:
    return Markup(_markdown.render(text))  # noqa: S704 - markdown-it escapes everything; raw HTML is off


def build_environment(directory: Path = TEMPLATES_DIR) -> Environment:
    env = Environment(loader=FileSystemLoader(directory), autoescape=select_autoescape(["html"]),
                      extensions=["jinja2.ext.i18n"], undefined=StrictUndefined, trim_blocks=True,
                      lstrip_blocks=True)
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(t=_text, date=_date, utc=utc_time, markdown=_render_markdown)
    env.globals["nav_current"] = current_path
    return env


def make_ui(secret: bytes) -> Ui:
    return Ui(build_environment(), Catalogues.load(), secret)


def page_lang(request: Request) -> Lang:
    lang: Lang | None = getattr(request.state, "lang", None)
    if lang is None:
        lang = negotiate(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))
        request.state.lang = lang
    return lang


def lang_links(request: Request) -> list[tuple[Lang, str, str]]:
    """(language, its name, this page's URL switching to it) for the language switch."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k != LANG_COOKIE]
    return [(lang, name, f"{request.url.path}?{urlencode([*query, (LANG_COOKIE, lang.value)])}")
            for lang, name in NAMES.items()]


def page_context(request: Request) -> dict[str, Any]:
    """Values an area's dependencies add for its layout (the signed-in staff member, the controller…)."""
    extra: dict[str, Any] | None = getattr(request.state, "page_context", None)
    if extra is None:
        extra = {}
        request.state.page_context = extra
    return extra


def render(request: Request, template: str, context: Mapping[str, Any] | None = None, *,
           status: int = 200) -> HTMLResponse:
    """Render a page in the visitor's language, with a form token, never cached (pages may show personal data)."""
    ui: Ui = request.app.state.ui
    lang = page_lang(request)
    values: dict[str, Any] = {
        "request": request, "lang": lang, "i18n": ui.catalogues.get(lang), "path": request.url.path,
        "csrf_field": CSRF_FIELD, "csrf": csrf_token(request), "lang_links": lang_links(request),
        **page_context(request), **(context or {}),
    }
    response = HTMLResponse(ui.env.get_template(template).render(values), status_code=status)
    set_nonce_cookie(request, response)
    response.headers["Cache-Control"] = "no-store"
    return response
