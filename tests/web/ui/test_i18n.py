"""Languages: every catalogue translates every message, the choice of language, the switch."""

from __future__ import annotations

from babel.messages.checkers import python_format
from fastapi.testclient import TestClient

from charter.core.i18n import Lang
from charter.web.ui.catalogues import extract, is_translated, read
from charter.web.ui.i18n import LOCALES, Catalogues, negotiate


def test_every_catalogue_translates_every_message() -> None:
    wanted = {m.id for m in extract() if m.id}
    assert len(wanted) > 100
    for locale in LOCALES.values():
        catalog = read(locale)
        have = {m.id: m for m in catalog if m.id}
        missing = wanted - have.keys()
        assert not missing, f"{locale}: run `python -m charter.web.ui.catalogues` and translate {missing}"
        untranslated = [i for i, m in have.items() if not is_translated(m.string) or m.fuzzy]
        assert not untranslated, f"{locale}: untranslated or fuzzy: {untranslated}"
        stale = have.keys() - wanted
        assert not stale, f"{locale}: messages no longer used: {stale}"
        for message in have.values():
            python_format(catalog, message)  # raises if the placeholders differ from the msgid's


def test_chinese_catalogues_are_really_translated() -> None:
    catalogues = Catalogues.load()
    for lang in (Lang.ZH_CN, Lang.ZH_TW):
        assert catalogues.get(lang).gettext("Privacy policy") != "Privacy policy"
    assert catalogues.get(Lang.ZH_CN).gettext("Sign in") == "登录"
    assert catalogues.get(Lang.ZH_TW).gettext("Sign in") == "登入"
    assert catalogues.get(Lang.EN).ngettext("%(num)d session", "%(num)d sessions", 2) == "%(num)d sessions"
    assert not catalogues.missing


def test_a_missing_message_is_remembered_and_shown_in_english() -> None:
    catalogues = Catalogues.load()
    assert catalogues.get(Lang.ZH_CN).gettext("No such message") == "No such message"
    assert (Lang.ZH_CN, "No such message") in catalogues.missing


def test_the_cookie_wins_then_the_browser_then_chinese() -> None:
    assert negotiate("en", "zh-CN") is Lang.EN
    assert negotiate("zh-TW", None) is Lang.ZH_TW
    assert negotiate("fr", "fr-FR, en;q=0.8, zh;q=0.5") is Lang.EN
    assert negotiate(None, "zh-HK,zh;q=0.9") is Lang.ZH_TW
    assert negotiate(None, "en;q=0, zh-CN;q=0.4") is Lang.ZH_CN
    assert negotiate(None, "de, fr") is Lang.ZH_CN
    assert negotiate(None, None) is Lang.ZH_CN


def test_the_language_switch_remembers_the_choice(web: TestClient) -> None:
    r = web.get("/admin/sign-in?lang=en&controller=acme")
    assert r.status_code == 303
    assert r.headers["location"] == "/admin/sign-in?controller=acme"
    assert "lang=en" in r.headers["set-cookie"]
    page = web.get(r.headers["location"])
    assert '<html lang="en">' in page.text
    assert "Staff sign-in" in page.text
    web.get("/admin/sign-in?lang=zh-TW")
    assert "員工登入" in web.get("/admin/sign-in").text
    assert web.get("/admin/sign-in?lang=klingon").status_code == 303  # ignored, not an error
    assert "員工登入" in web.get("/admin/sign-in").text


def test_accept_language_picks_the_language_without_a_cookie(web: TestClient) -> None:
    assert "Staff sign-in" in web.get("/admin/sign-in", headers={"Accept-Language": "en-GB,en;q=0.9"}).text
    assert "员工登录" in web.get("/admin/sign-in", headers={"Accept-Language": "zh-CN"}).text
