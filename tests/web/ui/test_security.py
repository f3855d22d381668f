"""Form tokens on every POST, security headers on every page, and nothing inline for the CSP to forbid."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from charter.web import admin, center
from charter.web.ui.security import CSP
from charter.web.ui.templates import TEMPLATES_DIR
from tests.factories import make_controller, make_staff, publish_policy
from tests.web.pages import browser, csrf_of, sign_in
from tests.web.routes import page_routes

POSTS = sorted(p for m, p in page_routes(admin) | page_routes(center) if m == "POST")


@pytest.fixture
def signed_in_admin(web: TestClient, sessions: sessionmaker[Session]) -> TestClient:
    with sessions() as s, s.begin():
        cid = make_controller(s)
    publish_policy(sessions, cid)
    sign_in(web, make_staff(sessions, cid, "admin"))
    return web


@pytest.mark.parametrize("path", POSTS)
def test_every_post_without_a_valid_token_is_refused(signed_in_admin: TestClient, app: object, path: str) -> None:
    url = path.replace("{staff_id}", "1").replace("{controller}", "x")
    web = signed_in_admin
    assert web.post(url, data={"email": "a@b.example", "role": "viewer"}).status_code == 403
    assert web.post(url, data={"csrf": "0" * 64}).status_code == 403
    other = browser(app)  # type: ignore[arg-type]
    foreign = csrf_of(other.get("/admin/sign-in").text)  # a token issued to another browser
    r = web.post(url, data={"csrf": foreign})
    assert r.status_code == 403
    assert "表单已过期" in r.text


def test_a_token_issued_before_sign_in_is_worthless_after(web: TestClient, sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        cid = make_controller(s)
    before = csrf_of(web.get("/admin/sign-in").text)
    sign_in(web, make_staff(sessions, cid, "admin"))
    assert web.post("/admin/audit/verify", data={"csrf": before}).status_code == 403
    after = csrf_of(web.get("/admin").text)
    assert web.post("/admin/audit/verify", data={"csrf": after}).status_code == 200


def test_the_form_token_cookie_is_httponly_and_samesite(web: TestClient) -> None:
    cookie = web.get("/admin/sign-in").headers["set-cookie"].lower()
    assert "charter_csrf=" in cookie
    assert "httponly" in cookie
    assert "samesite=lax" in cookie


@pytest.mark.parametrize("path", ["/admin/sign-in", "/admin/nowhere", "/center/no-such-controller",
                                  "/assets/charter.css", "/v1/policies"])
def test_security_headers_on_every_response(web: TestClient, path: str) -> None:
    r = web.get(path)
    assert r.headers["content-security-policy"] == CSP
    assert "'unsafe-inline'" not in CSP
    assert "frame-ancestors 'none'" in CSP
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["x-content-type-options"] == "nosniff"


def test_pages_are_never_cached(web: TestClient) -> None:
    assert web.get("/admin/sign-in").headers["cache-control"] == "no-store"


INLINE = [
    re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
    re.compile(r"<style", re.IGNORECASE),
    re.compile(r"\sstyle=", re.IGNORECASE),
    re.compile(r"\son[a-z]+=", re.IGNORECASE),
    re.compile(r"javascript:", re.IGNORECASE),
    re.compile(r"https?://(?!www\.w3\.org)[a-z]", re.IGNORECASE),
]


def test_templates_have_nothing_inline_and_load_nothing_from_elsewhere() -> None:
    for template in TEMPLATES_DIR.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        for pattern in INLINE:
            assert not pattern.search(text.replace('"https://", "http://"', "")), (template.name, pattern.pattern)


def test_no_personal_data_in_urls_sign_in_goes_in_the_body(web: TestClient) -> None:
    page = web.get("/admin/sign-in").text
    assert re.search(r'<form method="post" action="/admin/sign-in"', page)
