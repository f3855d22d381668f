"""The pages' languages: Babel catalogues read from the `.po` files at start-up, and choosing a language.

The catalogues are compiled in memory when the app starts, so there is no build step. A message missing from a
catalogue falls back to its English source text and is remembered in `Catalogues.missing`, which the tests
check after rendering every page in every language.
"""

from __future__ import annotations

import datetime as dt
import gettext
import io
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

from babel import Locale
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from starlette.responses import RedirectResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from charter.core.i18n import Lang

LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"
DOMAIN = "messages"
LANG_COOKIE = "lang"
DEFAULT = Lang.ZH_CN

LOCALES: dict[Lang, str] = {Lang.ZH_CN: "zh_CN", Lang.ZH_TW: "zh_TW", Lang.EN: "en"}
"""Our language → the Babel locale and catalogue folder name."""

NAMES: dict[Lang, str] = {Lang.ZH_CN: "简体中文", Lang.ZH_TW: "繁體中文", Lang.EN: "English"}
"""Each language in its own words, for the language switch (not translated, on purpose)."""


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "translate later"
    """Marks a message for extraction where it is defined; it is translated where it is shown."""
    return message


class _Untranslated(gettext.NullTranslations):
    """The last fallback: records what was asked for and shows the English source text."""

    def __init__(self, lang: Lang, missing: set[tuple[Lang, str]]) -> None:
        super().__init__()
        self.lang, self.missing = lang, missing

    def gettext(self, message: str) -> str:
        self.missing.add((self.lang, message))
        return message

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        self.missing.add((self.lang, msgid1))
        return msgid1 if n == 1 else msgid2


class Catalogues:
    """The compiled catalogue of every language."""

    def __init__(self, translations: dict[Lang, Translations]) -> None:
        self.translations = translations
        self.missing: set[tuple[Lang, str]] = set()
        for lang, t in translations.items():
            t.add_fallback(_Untranslated(lang, self.missing))

    @classmethod
    def load(cls, directory: Path = LOCALE_DIR) -> Catalogues:
        return cls({lang: compile_po(directory / name / "LC_MESSAGES" / f"{DOMAIN}.po", name)
                    for lang, name in LOCALES.items()})

    def get(self, lang: Lang) -> Translations:
        return self.translations[lang]


def compile_po(path: Path, locale: str) -> Translations:
    """Read a `.po` file and compile it to an in-memory `.mo` (fuzzy and empty entries left out)."""
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=locale, domain=DOMAIN)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return Translations(fp=buf, domain=DOMAIN)


def parse_lang(value: str | None) -> Lang | None:
    if not value:
        return None
    try:
        return Lang.parse(value)
    except ValueError:
        return None


def accepted(header: str | None) -> Iterable[str]:
    """Accept-Language tags, most wanted first (`q=0` means "not this one")."""
    ranked: list[tuple[float, int, str]] = []
    for n, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if tag and tag != "*" and q > 0:
            ranked.append((-q, n, tag))
    return [tag for _, _, tag in sorted(ranked)]


def negotiate(cookie: str | None, accept_language: str | None) -> Lang:
    """The `lang` cookie if it names a language we speak, else the browser's preference, else Chinese."""
    chosen = parse_lang(cookie)
    if chosen is not None:
        return chosen
    for tag in accepted(accept_language):
        lang = parse_lang(tag)
        if lang is not None:
            return lang
    return DEFAULT


def babel_locale(lang: Lang) -> Locale:
    return Locale.parse(LOCALES[lang])


def long_date(day: dt.date, lang: Lang) -> str:
    return str(format_date(day, format="long", locale=babel_locale(lang)))


def utc_time(at: dt.datetime) -> str:
    """Audit times in UTC, the same in every language so staff can compare them."""
    at = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
    return at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class LanguageSwitch:
    """`GET /any/page?lang=en` remembers the choice in the `lang` cookie and redirects to the page without it.

    The language switch is plain links, so it works without JavaScript and without a form.
    """

    def __init__(self, app: ASGIApp, prefixes: tuple[str, ...]) -> None:
        self.app = app
        self.prefixes = prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and str(scope["path"]).startswith(self.prefixes):
            query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
            wanted = [v for k, v in query if k == LANG_COOKIE]
            if wanted:
                await self._switch(scope, receive, send, wanted[-1], [(k, v) for k, v in query if k != LANG_COOKIE])
                return
        await self.app(scope, receive, send)

    async def _switch(self, scope: Scope, receive: Receive, send: Send, wanted: str,
                      rest: list[tuple[str, str]]) -> None:
        target = str(scope["path"]) + (f"?{urlencode(rest)}" if rest else "")
        response = RedirectResponse(target, status_code=303)
        lang = parse_lang(wanted)
        if lang is not None:
            response.set_cookie(LANG_COOKIE, lang.value, max_age=365 * 24 * 3600, path="/",
                                secure=scope.get("scheme") == "https", httponly=True, samesite="lax")
        await response(scope, receive, send)
