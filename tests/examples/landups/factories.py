"""Helpers that drive Landups through HTTP as a browser would: read the CSRF token, post forms, make photos."""

from __future__ import annotations

import io
import re
import uuid
from typing import Any

import httpx
from fastapi.testclient import TestClient
from PIL import Image

VALID_HKID = "A123456(3)"
VALID_CN_RIC = "11010519491231002X"
VALID_USCC = "91110000600037341L"
PASSWORD = "correct horse battery"


def csrf_of(web: TestClient, path: str) -> str:
    page = web.get(path)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, f"no CSRF token on {path} ({page.status_code})"
    return match.group(1)


def post(web: TestClient, path: str, data: dict[str, Any], files: dict[str, Any] | None = None,
         form_page: str | None = None) -> httpx.Response:
    token = csrf_of(web, form_page or path)
    response: httpx.Response = web.post(path, data={**data, "csrf_token": token}, files=files)
    return response


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


def register(web: TestClient, *, email: str | None = None, account_type: str = "personal",
             consents: tuple[str, ...] = (), language: str = "en", **extra: str) -> str:
    email = email or unique_email()
    data = {"email": email, "password": PASSWORD, "password_again": PASSWORD, "name": "Chan Tai Man",
            "phone": "9123 4567", "account_type": account_type, "language": language, "accept_policy": "yes",
            **{f"consent_{p}": "yes" for p in consents}, **extra}
    response = post(web, "/register", data)
    assert response.status_code == 303, response.text
    return email


def login(web: TestClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return post(web, "/login", {"email": email, "password": password}, form_page="/")


def photo_bytes(fmt: str = "JPEG", size: tuple[int, int] = (640, 400), exif_gps: bool = False) -> bytes:
    image = Image.new("RGB", size, (200, 210, 220))
    for x in range(0, size[0], 8):
        image.putpixel((x, size[1] // 2), (10, 20, 30))
    out = io.BytesIO()
    if exif_gps:
        exif = Image.Exif()
        exif[0x010F] = "CameraMaker"        # Make
        exif[0x8825] = {1: "N", 2: (22.0, 17.0, 0.0)}   # GPS IFD: latitude in Hong Kong
        image.save(out, format=fmt, exif=exif)
    else:
        image.save(out, format=fmt)
    return out.getvalue()


def real_name_form(id_type: str = "hkid", id_number: str = VALID_HKID, **extra: str) -> dict[str, str]:
    return {"full_name": "Chan Tai Man", "id_type": id_type, "id_number": id_number, **extra}


def field_error(html: str, field: str) -> str | None:
    """The text of the error shown next to `field`, if any."""
    match = re.search(rf'<p class="field-error" data-field="{field}">([^<]+)</p>', html)
    if match:
        return match.group(1)
    summary = re.search(rf'<li data-field="{field}">(.+?)</li>', html)   # fields not on the page: the summary
    return re.sub(r"<[^>]+>", "", summary.group(1)) if summary else None
