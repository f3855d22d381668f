"""Driving pages as a browser would: read the form token from the page, post the form, follow the flow."""

from __future__ import annotations

import re
import time
import uuid

import httpx
import pyotp
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.factories import StaffAccount

_CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no form token"
    return found.group(1)


def post_form(client: TestClient, page: str, action: str, data: dict[str, str] | None = None,
              files: dict[str, tuple[str, bytes, str]] | None = None) -> httpx.Response:
    """Open `page`, take its form token, and post `data` to `action`."""
    shown = client.get(page)
    assert shown.status_code == 200, shown.text
    return client.post(action, data={"csrf": csrf_of(shown.text), **(data or {})}, files=files)


def code(secret: str, steps_ahead: int = 0) -> str:
    """A TOTP code; `steps_ahead=1` gives the next step's, still accepted, for a second sign-in in one step."""
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_ahead)


def sign_in(client: TestClient, account: StaffAccount, *, steps_ahead: int = 0) -> None:
    """Password, then the second factor; the client holds a full session afterwards."""
    r = post_form(client, "/admin/sign-in", "/admin/sign-in", {
        "controller": account.controller_id, "email": account.email, "password": account.password})
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/admin/sign-in/code"
    assert account.totp_secret
    r = post_form(client, "/admin/sign-in/code", "/admin/sign-in/code",
                  {"code": code(account.totp_secret, steps_ahead)})
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/admin"


def browser(app: FastAPI, *, lang: str | None = None, base_url: str = "http://testserver") -> TestClient:
    """A new browser: no cookies but the language, and an address of its own (attempt limits are per address)."""
    address = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    return TestClient(app, client=(address, 50000), base_url=base_url, follow_redirects=False,
                      cookies={"lang": lang} if lang else None)
