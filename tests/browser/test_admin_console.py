"""The admin console in Chromium against a live server on a real database: sign in with TOTP, publish by upload,
read the diff, verify the audit chain; a viewer is refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from sqlalchemy.orm import Session, sessionmaker

from charter.core.settings import Settings
from tests.factories import StaffAccount, make_controller, make_staff, policy_text, publish_policy
from tests.live import ARTIFACTS, live_server

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def base_url(settings: Settings) -> Iterator[str]:
    from charter.web.app import create_app  # noqa: PLC0415 - one live server per backend

    app = create_app(settings)
    with live_server(app) as url:
        yield url
    app.state.engine.dispose()


def _controller(sessions: sessionmaker[Session]) -> str:
    with sessions() as s, s.begin():
        cid = make_controller(s, name="Acme 示例")
    publish_policy(sessions, cid, "1.0")
    return cid


def _sign_in(page: Any, base_url: str, account: StaffAccount) -> None:
    page.goto(base_url + "/admin")
    assert page.url.endswith("/admin/sign-in")
    page.fill("input[name=controller]", account.controller_id)
    page.fill("input[name=email]", account.email)
    page.fill("input[name=password]", account.password)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/sign-in/code")
    assert account.totp_secret
    page.fill("input[name=code]", pyotp.TOTP(account.totp_secret).now())
    page.click("main button[type=submit]")
    page.wait_for_url("**/admin")


def test_sign_in_with_totp_publish_read_the_diff_and_verify_the_chain(
        page: Any, base_url: str, sessions: sessionmaker[Session], tmp_path: Path) -> None:
    cid = _controller(sessions)
    officer = make_staff(sessions, cid, "privacy_officer")
    _sign_in(page, base_url, officer)
    assert "Policy in force" in page.text_content("main")
    page.screenshot(path=str(ARTIFACTS / "admin-dashboard.png"), full_page=True)

    upload = tmp_path / "policy-2.0.yaml"
    upload.write_text(policy_text(cid, "2.0", extra_purpose=True, effective="2024-06-01"), encoding="utf-8")
    page.click("nav.menu >> text=Policies")
    page.set_input_files("input[name=policy]", str(upload))
    page.click("text=Check and publish")
    page.wait_for_url("**/admin/policies/v/2.0?published=1")
    assert "Version 2.0 is published." in page.text_content("main")

    page.click("text=Changes since 1.0")
    page.wait_for_url("**/admin/policies/diff?from=1.0&to=2.0")
    changes = page.text_content("main")
    assert "Needs fresh consent" in changes
    assert "surveys" in changes
    page.screenshot(path=str(ARTIFACTS / "admin-policy-diff.png"), full_page=True)

    page.click("nav.menu >> text=Audit log")
    assert "policy.published" in page.text_content("table.audit")
    page.click("#verify-chain")
    page.wait_for_selector("#verification")
    assert "Intact:" in page.text_content("#verification")
    page.screenshot(path=str(ARTIFACTS / "admin-audit-verified.png"), full_page=True)


def test_a_viewer_cannot_publish(page: Any, base_url: str, sessions: sessionmaker[Session]) -> None:
    cid = _controller(sessions)
    viewer = make_staff(sessions, cid, "viewer")
    _sign_in(page, base_url, viewer)
    assert page.locator("nav.menu >> text=Audit log").count() == 0  # not offered to a viewer
    page.click("nav.menu >> text=Policies")
    assert page.locator("input[name=policy]").count() == 0
    token = page.input_value("input[name=csrf]")
    response = page.request.post(base_url + "/admin/policies", multipart={
        "csrf": token,
        "policy": {"name": "p.yaml", "mimeType": "application/yaml",
                   "buffer": policy_text(cid, "9.0").encode()}})
    assert response.status == 403
    page.goto(base_url + "/admin/audit")
    assert "Not allowed" in page.text_content("main")
    page.screenshot(path=str(ARTIFACTS / "admin-viewer-403.png"), full_page=True)


def test_the_console_on_a_phone(browser: Any, base_url: str, sessions: sessionmaker[Session]) -> None:
    cid = _controller(sessions)
    account = make_staff(sessions, cid, "admin")
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        _sign_in_zh(page, base_url, account)
        page.goto(base_url + "/admin/staff")
        assert "员工" in page.text_content("h1")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390  # nothing forces sideways scrolling; wide tables scroll inside their box
        page.screenshot(path=str(ARTIFACTS / "admin-staff-phone-zh.png"), full_page=True)
    finally:
        context.close()


def _sign_in_zh(page: Any, base_url: str, account: StaffAccount) -> None:
    page.goto(base_url + "/admin/sign-in")
    assert "员工登录" in page.text_content("h1")
    page.fill("input[name=controller]", account.controller_id)
    page.fill("input[name=email]", account.email)
    page.fill("input[name=password]", account.password)
    page.click("main button[type=submit]")
    page.wait_for_url("**/admin/sign-in/code")
    assert account.totp_secret
    page.fill("input[name=code]", pyotp.TOTP(account.totp_secret).now())
    page.click("main button[type=submit]")
    page.wait_for_url("**/admin")
