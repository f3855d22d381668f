"""A newcomer's journey in Chromium against a live server, mail read from the real SMTP server.

register → search → favourite → download a data sheet → purchase request → consultation → subscribe and
confirm from the inbox → personal centre. Screenshots go to test-artifacts/lubpur-*.png.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from tests.examples.lubpur.factories import adult_birth_date, unique_email, unique_phone
from tests.examples.lubpur.mailbox import Mailbox, text_of
from tests.live import ARTIFACTS, live_server


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"lubpur-{name}.png"), full_page=True)


def _path_of(link: str) -> str:
    return re.sub(r"^https?://[^/]+", "", link)


def test_a_newcomers_journey(page: Any, lubpur_app: FastAPI, mailbox: Mailbox, lubpur_database_url: str) -> None:
    backend = lubpur_database_url.split(":", maxsplit=1)[0].split("+", maxsplit=1)[0]
    email, phone = unique_email("journey"), unique_phone()
    with live_server(lubpur_app) as base:
        page.goto(base + "/")
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        page.click("text=EN")
        assert page.locator("html").get_attribute("lang") == "en"
        _shot(page, f"home-{backend}")

        # register, accepting the exact policy version shown
        page.click("text=Register")
        assert page.locator("text=version 2023-05").count() >= 1
        page.fill("#f-email", email)
        page.fill("#f-phone", phone)
        page.fill("#f-password", "Lubric4nt-pass")
        page.fill("#f-name", "Wang Jianguo")
        page.fill("#f-company", "Shanghai Machinery Co.")
        page.fill("#f-birth_date", adult_birth_date())
        page.check("#f-personalisation")
        page.check("#f-accept")
        page.click("#register-button")
        assert page.url.endswith("/me?ok=registered")
        assert page.text_content("#points-balance") == "100"

        # search and favourite
        page.fill("input[name=q]", "hydraulic 46")
        page.keyboard.press("Enter")
        assert "results for" in (page.text_content("#result-count") or "")
        _shot(page, f"search-{backend}")
        page.locator(".cards .card a").first.click()
        product_path = page.url.removeprefix(base)
        page.click("#favourite")
        assert page.locator("text=Added to favourites.").count() == 1
        _shot(page, f"product-{backend}")

        # download the data sheet
        with page.expect_download() as download:
            page.click("#datasheet")
        saved = Path(download.value.path())
        assert saved.read_bytes().startswith(b"%PDF-")
        assert download.value.suggested_filename.endswith("-TDS.pdf")

        # purchase request for someone else, with the attestation
        page.goto(base + product_path)
        page.click("#purchase")
        page.fill("#f-quantity", "6")
        page.fill("#f-delivery_city", "Suzhou")
        page.fill("#f-contact_name", "Zhao Buyer")
        page.fill("#f-contact_phone", "13912345678")
        page.check("#f-third-party")
        page.click("#purchase-send")
        assert page.locator("#form-error").count() == 1  # the attestation is missing
        page.check("#f-third-party")
        page.check("#f-attest")
        page.click("#purchase-send")
        assert "/me/purchases" in page.url
        assert page.locator("#purchase-list >> text=Zhao Buyer").count() == 1

        # consultation with customer service
        page.click("text=My customer service")
        page.fill("#f-subject", "Can HM 46 replace HLP 46?")
        page.fill("#f-body", "Our injection moulding machines use HLP 46.")
        page.click("#consult-send")
        assert page.locator("#thread >> text=Our injection moulding machines use HLP 46.").count() == 1

        # subscribe, and confirm from the real inbox
        page.fill("#subscribe input[name=email]", email)
        page.click("#subscribe-button")
        assert "Check your inbox" in (page.text_content("#message-body") or "")
        mail = mailbox.wait_for(email, lambda m: "confirm" in str(m["Subject"]).lower())
        link = re.search(r"https?://\S+/subscribe/confirm\?token=\S+", text_of(mail))
        assert link
        page.goto(base + _path_of(link.group(0)))
        page.click("#confirm-button")
        assert page.locator("h1", has_text="Subscribed").count() == 1

        # the personal centre shows it all
        page.goto(base + "/me/favourites")
        assert page.locator("#favourite-list tr").count() == 1
        assert page.locator("#download-list tr").count() == 1
        page.goto(base + "/me/footprints")
        assert page.locator("#footprint-list tr").count() >= 1
        page.goto(base + "/me/privacy")
        assert "Subscribed" in (page.text_content("#choice-marketing_email") or "")
        _shot(page, f"privacy-{backend}")
        page.goto(base + "/")
        assert page.locator("#recommendations").get_attribute("data-personalised") == "yes"
        page.goto(base + "/me")
        assert page.locator("#privacy-centre-link").count() == 1
        _shot(page, f"personal-centre-{backend}")
