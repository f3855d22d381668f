"""The privacy centre in Chromium: the Lubpur policy in zh-CN and en with its contacts, switching language, a
phone-sized screen."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from charter.core.settings import Settings
from charter.policy.services import PolicyStore
from tests.factories import make_controller
from tests.live import ARTIFACTS, live_server
from tests.policy.policies import LUBPUR

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def base_url(settings: Settings) -> Iterator[str]:
    from charter.web.app import create_app  # noqa: PLC0415 - one live server per backend

    app = create_app(settings)
    with live_server(app) as url:
        yield url
    app.state.engine.dispose()


@pytest.fixture(scope="module")
def center(sessions: sessionmaker[Session]) -> str:
    """The real Lubpur policy, published for a controller of this run's own."""
    with sessions() as s, s.begin():
        cid = make_controller(s, name="Lubpur")
        text = LUBPUR.read_text(encoding="utf-8").replace('  id: "lubpur"', f'  id: "{cid}"', 1)
        PolicyStore(s).publish(cid, text, source=str(LUBPUR), actor="test")
    return f"/center/{cid}"


def test_the_policy_in_chinese_then_english_with_the_contacts(browser: Any, base_url: str, center: str) -> None:
    context = browser.new_context(locale="zh-CN")
    try:
        page = context.new_page()
        page.goto(base_url + center)
        assert page.get_attribute("html", "lang") == "zh-CN"
        assert "隐私政策" in page.text_content("h1")
        footer = page.text_content("footer")
        assert "联系我们" in footer
        assert "@" in footer  # the policy's contact channels (LUB-CONTACT)
        page.screenshot(path=str(ARTIFACTS / "center-policy-zh-CN.png"), full_page=False)

        page.click("nav.langs >> text=English")
        page.wait_for_load_state()
        assert page.get_attribute("html", "lang") == "en"
        assert "Privacy Policy" in page.text_content("h1") or "Privacy policy" in page.text_content("h1")
        assert "Contact us" in page.text_content("footer")
        page.screenshot(path=str(ARTIFACTS / "center-policy-en.png"), full_page=False)

        page.click("nav.menu >> text=Versions and changes")
        assert "Versions of this policy" in page.text_content("h1")
        page.goto(base_url + center)  # the choice is remembered
        assert page.get_attribute("html", "lang") == "en"
    finally:
        context.close()


def test_the_centre_on_a_phone(browser: Any, base_url: str, center: str) -> None:
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        page.goto(base_url + center)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(ARTIFACTS / "center-policy-phone-zh-CN.png"), full_page=False)
        page.goto(base_url + "/center/no-such-company")
        assert "未找到" in page.text_content("main")
    finally:
        context.close()


def test_no_csp_violations_on_the_pages(browser: Any, base_url: str, center: str) -> None:
    context = browser.new_context(locale="en-US")
    try:
        page = context.new_page()
        problems: list[str] = []
        page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
        page.goto(base_url + center)
        page.goto(base_url + "/admin/sign-in")
        assert problems == []
        assert page.evaluate("getComputedStyle(document.body).fontFamily")  # our stylesheet loaded
        assert page.evaluate("getComputedStyle(document.querySelector('header.site')).borderBottomStyle") == "solid"
    finally:
        context.close()
