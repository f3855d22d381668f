"""The consent banner in Debian's Chromium: a host page on one origin (http://localhost:H) loads the banner from
Charter on another (http://127.0.0.1:C), so CORS is real. Each test gets a fresh browser context (no cookies)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from charter.accounts.services import OriginService
from charter.consent.models import ConsentEvent
from charter.core.crypto import Keyring
from charter.core.db import make_engine, session_factory, transaction
from charter.core.settings import Settings
from charter.migrations import upgrade
from charter.web.app import create_app
from tests.factories import Tenant, example_policy_text, make_tenant, publish
from tests.live import ARTIFACTS, free_port, live_server

pytestmark = pytest.mark.browser

HOST_PAGE = """<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>Lubpur</title>
<script src="{charter}/static/charter-consent.js" data-key="{key}"></script>
<style>button {{ color: #fff; background: #fff; text-transform: uppercase; }}</style>
</head><body><h1>Lubpur 超润</h1><button id="before">before</button>
<a href="#" id="privacy" data-charter-open>Privacy settings</a>
<script type="text/plain" data-charter-purpose="analytics">
  window.analyticsRan = true; document.cookie = "_ana=1; path=/";
</script>
<script type="text/plain" data-charter-purpose="marketing">
  window.marketingRan = true; document.cookie = "_mkt=1; path=/";
</script>
<script type="text/plain" data-charter-purpose="personalisation">window.prefsRan = true;</script>
</body></html>"""


@dataclass
class Stage:
    charter: str
    host: str
    tenant: Tenant
    sessions: sessionmaker[Session]
    keyring: Keyring
    api: httpx.Client


def _host_app(charter: str, key: str) -> FastAPI:
    app = FastAPI()

    @app.get("/", response_class=HTMLResponse)
    def home(lang: str = "en") -> str:
        return HOST_PAGE.format(charter=charter, key=key, lang=lang)

    return app


@pytest.fixture
def stage(tmp_path: Path) -> Iterator[Stage]:
    url = f"sqlite:///{tmp_path / 'banner.db'}"
    upgrade(url)
    keyring = Keyring.generate()
    engine = make_engine(url)
    sessions = session_factory(engine)
    tenant = make_tenant(sessions)
    host_port = free_port()
    host = f"http://localhost:{host_port}"
    with transaction(sessions) as s:
        OriginService(s).add(tenant.controller_id, host, actor="test")
    app = create_app(Settings(database_url=url, keyring=keyring.to_json(), keyring_file=tmp_path / "k.json"))
    with live_server(app) as charter, live_server(_host_app(charter, tenant.publishable), host_port), \
            httpx.Client(base_url=charter) as api:
        publish(api, tenant, example_policy_text(tenant.controller_id))
        yield Stage(charter, host, tenant, sessions, keyring, api)
    engine.dispose()


def ledger(stage: Stage) -> list[tuple[str, str, str, bool]]:
    with stage.sessions() as s:
        rows = s.execute(select(ConsentEvent).where(ConsentEvent.controller_id == stage.tenant.controller_id)
                         .order_by(ConsentEvent.seq)).scalars().all()
    return [(r.purpose, r.action, r.channel, r.gpc) for r in rows]


def open_host(page: Any, stage: Stage, lang: str = "en") -> None:
    page.goto(f"{stage.host}/?lang={lang}")
    page.wait_for_function("window.Charter && window.Charter.ready")
    page.evaluate("window.Charter.ready")


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"banner-{name}.png"), full_page=True)


def test_reject_sets_no_analytics_cookie_and_the_blocked_script_never_runs(page: Any, stage: Stage) -> None:
    open_host(page, stage)
    dialog = page.get_by_role("dialog", name="Your privacy choices")
    dialog.wait_for()
    shot(page, "first-visit-en")
    assert page.evaluate("window.analyticsRan") is None
    assert [c["name"] for c in page.context.cookies()] == []  # nothing before the choice
    dialog.get_by_role("button", name="Reject all").click()
    dialog.wait_for(state="detached")
    page.reload()
    page.evaluate("window.Charter.ready")
    assert page.get_by_role("dialog").count() == 0  # the choice is remembered
    assert page.evaluate("[window.analyticsRan, window.marketingRan, window.prefsRan]") == [None, None, None]
    names = {c["name"] for c in page.context.cookies()}
    assert names == {"charter_consent"}
    refused = ledger(stage)
    assert ("analytics", "refuse", "banner", False) in refused
    assert {p for p, a, _c, _g in refused if a == "refuse"} == {
        "analytics", "personalisation", "marketing_email", "email_tracking"}


def test_the_banners_buttons_stay_readable_on_a_host_that_styles_every_button(page: Any, stage: Stage) -> None:
    open_host(page, stage)
    page.get_by_role("dialog").wait_for()
    looks = page.evaluate("""[...document.querySelectorAll('.charter-consent button')].map(b => {
        const s = getComputedStyle(b); return [b.textContent, s.color, s.backgroundColor]; })""")
    assert len(looks) == 4
    for text, color, background in looks:
        assert text.strip(), looks
        assert color != background, f"{text!r} is drawn {color} on {background}"


def test_accepting_analytics_runs_it_and_nothing_else(page: Any, stage: Stage) -> None:
    open_host(page, stage)
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Analytics").check()
    dialog.get_by_role("button", name="Save choices").click()
    dialog.wait_for(state="detached")
    page.wait_for_function("window.analyticsRan === true")
    assert page.evaluate("[window.marketingRan, window.prefsRan]") == [None, None]
    assert "_ana" in {c["name"] for c in page.context.cookies()}
    assert ("analytics", "grant", "banner", False) in ledger(stage)
    # Linked to the account when the person logs in: the host reads its own cookie and calls Charter.
    visitor = next(c["value"] for c in page.context.cookies() if c["name"] == "charter_consent").split(".")[1]
    person = stage.api.post("/v1/subjects", json={"identities": [{"kind": "email", "value": "wang@example.com"}]},
                            headers=stage.tenant.headers).json()["subject_id"]
    linked = stage.api.post(f"/v1/subjects/{person}/link-visitor", json={"visitor_id": visitor},
                            headers=stage.tenant.headers)
    assert linked.status_code == 200, linked.text
    decision = stage.api.post("/v1/decisions", json={"subject_id": person, "purpose": "analytics"},
                              headers=stage.tenant.headers).json()
    assert decision["allowed"] is True
    # The banner now records against the account: withdrawing in the banner reaches its decisions.
    page.get_by_role("link", name="Privacy settings").click()
    page.get_by_role("dialog").get_by_role("button", name="Reject all").click()
    page.get_by_role("dialog").wait_for(state="detached")
    decision = stage.api.post("/v1/decisions", json={"subject_id": person, "purpose": "analytics"},
                              headers=stage.tenant.headers).json()
    assert decision["reasons"] == ["consent_withdrawn"]


def test_gpc_refuses_marketing_without_asking(browser: Any, stage: Stage) -> None:
    context = browser.new_context(locale="en-US", extra_http_headers={"Sec-GPC": "1"})
    context.add_init_script("Object.defineProperty(navigator, 'globalPrivacyControl', {get: () => true})")
    page = context.new_page()
    try:
        open_host(page, stage)
        dialog = page.get_by_role("dialog")
        dialog.wait_for()
        marketing = dialog.get_by_label("Marketing", exact=False)
        assert marketing.is_disabled() and not marketing.is_checked()
        assert ("marketing_email", "refuse", "banner", True) in ledger(stage)  # before anything was clicked
        shot(page, "gpc")
        dialog.get_by_role("button", name="Accept all").click()
        dialog.wait_for(state="detached")
        page.wait_for_function("window.analyticsRan === true")
        assert page.evaluate("window.marketingRan") is None
        assert "_mkt" not in {c["name"] for c in context.cookies()}
        assert ("marketing_email", "grant", "banner", True) not in ledger(stage)
    finally:
        context.close()


def test_language_switch_uses_the_policys_texts(page: Any, stage: Stage) -> None:
    open_host(page, stage, lang="zh-CN")
    dialog = page.get_by_role("dialog", name="隐私与 Cookie 选择")
    dialog.wait_for()
    assert "数据分析" in dialog.inner_text()  # the purpose's label, from the policy
    page.get_by_label("语言").select_option("zh-TW")
    page.get_by_role("dialog", name="隱私與 Cookie 選擇").wait_for()
    assert page.get_by_role("dialog").get_attribute("lang") == "zh-TW"
    shot(page, "zh-TW")
    page.get_by_label("語言").select_option("en")
    dialog = page.get_by_role("dialog", name="Your privacy choices")
    assert "Data analysis" in dialog.inner_text()
    assert "Lubpur Trading (Shanghai) Co., Ltd." in dialog.inner_text()


def test_the_banner_asks_again_after_a_policy_change_that_needs_fresh_consent(page: Any, stage: Stage) -> None:
    open_host(page, stage)
    page.get_by_role("dialog").get_by_role("button", name="Accept all").click()
    page.wait_for_function("window.analyticsRan === true")
    page.reload()
    page.evaluate("window.Charter.ready")
    assert page.get_by_role("dialog").count() == 0

    def widen(doc: dict[str, Any]) -> None:
        next(p for p in doc["purposes"] if p["id"] == "analytics")["categories"].append("identity.ip")

    today = dt.datetime.now(dt.UTC).date().isoformat()
    publish(stage.api, stage.tenant, example_policy_text(stage.tenant.controller_id, version="v2", effective=today,
                                                         edit=widen))
    page.reload()
    dialog = page.get_by_role("dialog")
    dialog.wait_for()
    assert "Our privacy policy has changed" in dialog.inner_text()
    assert page.evaluate("[window.analyticsRan, window.prefsRan]") == [None, True]  # prefs still consented
    shot(page, "reconsent")
    dialog.get_by_role("button", name="Accept all").click()
    page.wait_for_function("window.analyticsRan === true")


def test_keyboard_and_screen_reader(page: Any, stage: Stage) -> None:
    open_host(page, stage)
    dialog = page.get_by_role("dialog")
    dialog.wait_for()
    assert dialog.get_attribute("aria-modal") == "true"
    assert page.get_by_label("Strictly necessary", exact=False).is_disabled()
    assert page.evaluate("document.activeElement.closest('[role=dialog]') !== null")
    for _ in range(25):  # Tab never leaves the dialog
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.closest('[role=dialog]') !== null")
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.closest('[role=dialog]') !== null")
    page.keyboard.press("Escape")
    dialog.wait_for(state="detached")
    assert page.evaluate("window.analyticsRan") is None
    page.get_by_role("link", name="Privacy settings").click()  # a link reopens it
    page.get_by_role("dialog").wait_for()
    page.keyboard.press("Escape")
    page.evaluate("window.Charter.show()")  # and so does the API
    page.get_by_role("dialog").wait_for()


def test_an_undeclared_origin_gets_no_banner_and_writes_nothing(page: Any, stage: Stage) -> None:
    with live_server(_host_app(stage.charter, stage.tenant.publishable)) as other:
        page.goto(other.replace("127.0.0.1", "localhost") + "/")
        page.wait_for_function("window.Charter && window.Charter.ready")
        page.evaluate("window.Charter.ready")
    assert page.get_by_role("dialog").count() == 0
    assert page.evaluate("window.analyticsRan") is None
    assert ledger(stage) == []
    preflight = stage.api.options("/v1/banner/x/session", headers={
        "Origin": "http://evil.example", "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in preflight.headers
