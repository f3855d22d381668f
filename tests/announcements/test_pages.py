"""Choosing the page's language and rendering it: pure, no database."""

from __future__ import annotations

import datetime as dt

import yaml

from charter.announcements import choose_language, offered_languages, render_page
from charter.announcements.models import Announcement
from charter.core.i18n import Lang
from charter.policy.schema import PolicyVersion
from tests.conftest import EXAMPLES
from tests.policy.policies import minimal


def _landups() -> PolicyVersion:
    return PolicyVersion.model_validate(yaml.safe_load((EXAMPLES / "landups" / "policy.yaml").read_text("utf-8")))


def test_a_hong_kong_policy_is_offered_in_traditional_chinese_too() -> None:
    assert offered_languages(minimal()) == [Lang.ZH_CN, Lang.EN]
    assert offered_languages(_landups()) == [Lang.EN, Lang.ZH_CN, Lang.ZH_TW]
    assert offered_languages(None) == [Lang.ZH_CN, Lang.EN]


def test_the_language_is_asked_for_then_accepted_then_the_policys_first() -> None:
    offered = [Lang.ZH_CN, Lang.EN]
    assert choose_language("en", "zh-CN", offered) is Lang.EN
    assert choose_language(None, "fr;q=1, en-GB;q=0.8, zh;q=0.5", offered) is Lang.EN
    assert choose_language(None, "zh-TW", [Lang.EN, Lang.ZH_CN, Lang.ZH_TW]) is Lang.ZH_TW
    assert choose_language("zh-TW", None, offered) is Lang.ZH_CN
    assert choose_language("klingon", None, offered) is Lang.ZH_CN


def test_the_page_escapes_text_and_shows_the_contacts() -> None:
    item = Announcement(id="a1", controller_id="acme", kind="incident", title={"zh": "事件", "en": "Incident <b>"},
                        body={"zh": "第一段\n\n第二段", "en": "First.\n\nSecond <script>x</script>"}, source=None,
                        published_at=dt.datetime(2025, 3, 1, 8, tzinfo=dt.UTC), published_by="t")
    html = render_page("acme", "Acme", minimal(), [item], Lang.EN)
    assert "Incident &lt;b&gt;" in html and "&lt;script&gt;" in html and "<script>" not in html
    assert "<p>First.</p>" in html and "privacy@acme.example" in html
    assert 'lang="en"' in html and "/announcements/acme?lang=zh-CN" in html
    assert "<p>第二段</p>" in render_page("acme", "Acme", minimal(), [item], Lang.ZH_CN)
