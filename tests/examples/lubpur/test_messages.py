"""Every string in both languages, every template key known, and the language switch."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from lubpur import accounts, points, purchases
from lubpur.messages import MESSAGES

TEMPLATES = Path(__file__).resolve().parents[3] / "examples/lubpur/lubpur/web/templates"
PACKAGE = TEMPLATES.parents[1]


def test_every_message_exists_in_chinese_and_english() -> None:
    for key, (zh, en) in MESSAGES.items():
        assert zh.strip() and en.strip(), key
        assert re.findall(r"\{(\w+)\}", zh) == re.findall(r"\{(\w+)\}", en) or \
            set(re.findall(r"\{(\w+)\}", zh)) == set(re.findall(r"\{(\w+)\}", en)), key


def test_every_key_the_code_uses_is_in_the_catalogue() -> None:
    used: set[str] = set()
    for path in TEMPLATES.rglob("*.html"):
        used |= set(re.findall(r"\bt\(\s*'([a-z_.]+)'", path.read_text(encoding="utf-8")))
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"\bt\(\"([a-z_.]+)\"", text)) | set(re.findall(r"InputError\(\"([a-z_.]+)\"", text))
    prefixes = {k for k in used if k.endswith((".", "_"))}  # built as prefix + value, checked below
    assert used - prefixes - set(MESSAGES) == set()
    for prefix, values in {"unit.": purchases.UNITS, "status.": (*purchases.STATUSES, "open", "answered"),
                           "relationship.": accounts.RELATIONSHIPS, "points.reason.": tuple(points.AWARDS),
                           "consult.from_": ("user", "staff")}.items():
        assert prefix in prefixes
        assert {prefix + v for v in values} <= set(MESSAGES), prefix


def test_pages_are_chinese_by_default_and_english_after_the_switch(web: TestClient) -> None:
    assert '<html lang="zh-CN">' in web.get("/").text
    page = web.get("/lang/en", params={"next": "/products"})
    assert page.url.path == "/products"
    assert '<html lang="en">' in page.text and "Product catalogue" in page.text
    assert "Legal statement and privacy policy" in web.get("/policy").text
    assert web.get("/lang/en", params={"next": "https://evil.example/"}).url.path == "/"


def test_every_page_carries_the_blocked_analytics_script(web: TestClient) -> None:
    for path in ("/", "/products", "/products/1", "/policy", "/register", "/login"):
        assert '<script type="text/plain" data-charter-purpose="analytics">' in web.get(path).text, path
