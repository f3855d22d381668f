"""The public privacy centre: the policy in force, every version, what changed, and the contacts on every page."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import make_controller, publish_policy


@pytest.fixture
def controller(sessions: sessionmaker[Session]) -> str:
    with sessions() as s, s.begin():
        cid = make_controller(s)
    publish_policy(sessions, cid, "1.0")
    publish_policy(sessions, cid, "2.0", extra_purpose=True, effective="2024-06-01")
    return cid


PAGES = ["", "/versions", "/versions/1.0", "/versions/2.0", "/changes", "/changes?from=1.0&to=2.0",
         "/versions/9.9"]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_shows_the_contacts(web: TestClient, controller: str, page: str) -> None:
    r = web.get(f"/center/{controller}{page}", headers={"Accept-Language": "en"})
    assert r.status_code == (404 if "9.9" in page else 200)
    assert 'id="contacts"' in r.text
    assert "privacy@acme.example" in r.text
    assert "1 Example Road, Shanghai" in r.text


def test_the_policy_in_force_in_chinese_and_english(web: TestClient, controller: str) -> None:
    zh = web.get(f"/center/{controller}")
    assert '<html lang="zh-CN">' in zh.text
    assert "我们收集的信息" in zh.text
    assert "联系我们" in zh.text
    assert "2024年6月1日" in zh.text
    web.cookies.set("lang", "en")
    en = web.get(f"/center/{controller}").text
    assert "What we collect" in en
    assert "Contact us" in en
    assert "June 1, 2024" in en
    assert "Version <span class=\"version\">2.0</span>" in en


def test_every_earlier_version_stays_readable(web: TestClient, controller: str) -> None:
    web.cookies.set("lang", "en")
    listing = web.get(f"/center/{controller}/versions").text
    assert f"/center/{controller}/versions/1.0" in listing
    assert f"/center/{controller}/changes?from=1.0&amp;to=2.0" in listing
    old = web.get(f"/center/{controller}/versions/1.0").text
    assert "This is not the version in force." in old


def test_a_readable_diff_says_what_needs_consent(web: TestClient, controller: str) -> None:
    web.cookies.set("lang", "en")
    default = web.get(f"/center/{controller}/changes").text
    assert "What changed from version 1.0 to 2.0" in default
    assert "We will ask for your consent again" in default
    assert "Surveys" in default
    assert "PIPL" not in default  # people get plain language, not the rule citations
    web.cookies.set("lang", "zh-CN")
    zh = web.get(f"/center/{controller}/changes?from=1.0&to=2.0").text
    assert "我们将再次征求您的同意" in zh


def test_an_upcoming_version_is_announced_before_it_applies(web: TestClient, sessions: sessionmaker[Session],
                                                            controller: str) -> None:
    publish_policy(sessions, controller, "3.0", extra_purpose=True, effective="2999-01-01")
    web.cookies.set("lang", "en")
    page = web.get(f"/center/{controller}").text
    assert "A new version (3.0) takes effect on January 1, 2999." in page
    assert "Version <span class=\"version\">2.0</span>" in page  # 3.0 is not in force yet


@pytest.mark.parametrize(("lang", "words"), [("en", "Not found"), ("zh-CN", "未找到"), ("zh-TW", "找不到")])
def test_an_unknown_controller_is_a_404_page_in_the_chosen_language(web: TestClient, lang: str,
                                                                     words: str) -> None:
    web.cookies.set("lang", lang)
    r = web.get("/center/no-such-company")
    assert r.status_code == 404
    assert words in r.text
    assert r.headers["content-type"].startswith("text/html")


def test_a_controller_without_a_policy_has_no_centre_yet(web: TestClient, sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        cid = make_controller(s)
    assert web.get(f"/center/{cid}").status_code == 404


def test_one_controllers_centre_never_shows_anothers_versions(web: TestClient, sessions: sessionmaker[Session],
                                                              controller: str) -> None:
    with sessions() as s, s.begin():
        other = make_controller(s)
    publish_policy(sessions, other, "8.8")
    assert web.get(f"/center/{controller}/versions/8.8").status_code == 404
    assert web.get(f"/center/{controller}/changes?from=1.0&to=8.8").status_code == 404
    assert "8.8" not in web.get(f"/center/{controller}/versions").text
