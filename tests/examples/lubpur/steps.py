"""A newcomer's steps on Lubpur in Chromium (Playwright's sync `page`), shared by the browser journeys: on Lubpur
alone (test_browser) and with Charter, its privacy centre and a mail inbox (test_journey_with_charter).

Each step acts as a person would (clicks, forms, downloads) and checks what the page shows afterwards.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.examples.lubpur.factories import adult_birth_date, unique_email, unique_phone
from tests.live import ARTIFACTS

PASSWORD = "Lubric4nt-pass"


@dataclass(frozen=True)
class Newcomer:
    email: str
    phone: str
    name: str = "Wang Jianguo"
    company: str = "Shanghai Machinery Co."
    password: str = PASSWORD

    @classmethod
    def fresh(cls, prefix: str = "journey") -> Newcomer:
        return cls(unique_email(prefix), unique_phone())


@dataclass(frozen=True)
class Profile:
    """Account information the personal centre lets the person complete (policy clause 5.(1))."""

    wechat: str = "wang_jianguo_sh"
    qq: str = "88231907"
    address: str = "88 Jinqiao Road, Pudong"
    company_address: str = "1200 Chuansha Road, Pudong"
    position: str = "Maintenance engineer"


@dataclass(frozen=True)
class Purchase:
    contact_name: str = "Zhao Buyer"
    contact_phone: str = "13912345678"
    city: str = "Suzhou"


@dataclass(frozen=True)
class Consultation:
    subject: str = "Can HM 46 replace HLP 46?"
    body: str = "Our injection moulding machines use HLP 46."


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def register(page: Any, base: str, who: Newcomer) -> None:
    """In English, accepting the exact policy version shown, with personalisation on."""
    page.goto(base + "/")
    page.click("text=EN")
    assert page.locator("html").get_attribute("lang") == "en"
    page.click("text=Register")
    assert page.locator("text=version 2023-05").count() >= 1
    page.fill("#f-email", who.email)
    page.fill("#f-phone", who.phone)
    page.fill("#f-password", who.password)
    page.fill("#f-name", who.name)
    page.fill("#f-company", who.company)
    page.fill("#f-birth_date", adult_birth_date())
    page.check("#f-personalisation")
    page.check("#f-accept")
    page.click("#register-button")
    page.wait_for_url(re.compile(re.escape("/me?ok=registered") + "$"))
    assert page.text_content("#points-balance") == "100"


def complete_profile(page: Any, base: str, profile: Profile, avatar: Path) -> None:
    """Upload an avatar, then fill in the rest of the account information (which earns 50 points)."""
    page.goto(base + "/me")
    page.set_input_files("form[action='/me/avatar'] input[type=file]", str(avatar))
    page.click("form[action='/me/avatar'] button[type=submit]")
    page.wait_for_url(re.compile(re.escape("/me?ok=avatar_saved") + "$"))
    expect(page.locator("img.avatar")).to_have_count(1)
    before = int(page.text_content("#points-balance") or "0")
    page.fill("#f-wechat", profile.wechat)
    page.fill("#f-qq", profile.qq)
    page.fill("#f-address", profile.address)
    page.fill("#f-company_address", profile.company_address)
    page.fill("#f-position", profile.position)
    page.click("#profile-save")
    page.wait_for_url(re.compile(re.escape("/me?ok=profile_points") + "$"))
    assert int(page.text_content("#points-balance") or "0") == before + 50


def search_and_favourite(page: Any, base: str) -> str:
    """Search, open the first result, favourite it; returns the product's path."""
    page.fill("input[name=q]", "hydraulic 46")
    page.keyboard.press("Enter")
    assert "results for" in (page.text_content("#result-count") or "")
    page.locator(".cards .card a").first.click()
    product_path: str = page.url.removeprefix(base)
    page.click("#favourite")
    expect(page.locator("text=Added to favourites.")).to_have_count(1)
    return product_path


def download_datasheet(page: Any) -> Path:
    """The product page's data sheet, through the browser's download."""
    with page.expect_download() as download:
        page.click("#datasheet")
    saved = Path(download.value.path())
    assert saved.read_bytes().startswith(b"%PDF-")
    assert download.value.suggested_filename.endswith("-TDS.pdf")
    return saved


def purchase_request(page: Any, base: str, product_path: str, purchase: Purchase) -> None:
    """For someone else: refused until the attestation (LUB-THIRD-PARTY-INFO) is ticked, then sent."""
    page.goto(base + product_path)
    page.click("#purchase")
    page.fill("#f-quantity", "6")
    page.fill("#f-delivery_city", purchase.city)
    page.fill("#f-contact_name", purchase.contact_name)
    page.fill("#f-contact_phone", purchase.contact_phone)
    page.check("#f-third-party")
    page.click("#purchase-send")
    expect(page.locator("#form-error")).to_have_count(1)  # the attestation is missing
    page.check("#f-third-party")
    page.check("#f-attest")
    page.click("#purchase-send")
    page.wait_for_url(re.compile("/me/purchases"))
    expect(page.locator(f"#purchase-list >> text={purchase.contact_name}")).to_have_count(1)


def consult(page: Any, consultation: Consultation) -> None:
    """A message to customer service from the purchase panel's menu."""
    page.click("text=My customer service")
    page.fill("#f-subject", consultation.subject)
    page.fill("#f-body", consultation.body)
    page.click("#consult-send")
    expect(page.locator(f"#thread >> text={consultation.body}")).to_have_count(1)


def ask_to_subscribe(page: Any, email: str) -> None:
    page.fill("#subscribe input[name=email]", email)
    page.click("#subscribe-button")
    assert "Check your inbox" in (page.text_content("#message-body") or "")


def confirm_subscription(page: Any, confirm_url: str, *, allow_tracking: bool) -> None:
    page.goto(confirm_url)
    if allow_tracking:
        page.check("#f-tracking")
    page.click("#confirm-button")
    expect(page.locator("h1", has_text="Subscribed")).to_have_count(1)


def log_in(page: Any, base: str, login: str, password: str) -> None:
    page.goto(base + "/login")
    page.fill("#f-login", login)
    page.fill("#f-password", password)
    page.click("#login-button")


def log_out(page: Any) -> None:
    page.click("form[action='/logout'] button[type=submit]")
    expect(page.locator("#nav-me")).to_have_count(0)
