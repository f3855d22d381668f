"""A newcomer's journey in Chromium against a live server, mail read from the real SMTP server.

register → search → favourite → download a data sheet → purchase request → consultation → subscribe and
confirm from the inbox → personal centre. Screenshots go to test-artifacts/lubpur-*.png. The same journey with
Charter (privacy centre, export, cancellation) is test_journey_with_charter.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from playwright.sync_api import expect

from tests.examples.lubpur import steps
from tests.examples.lubpur.mailbox import Mailbox, text_of
from tests.live import live_server


def _path_of(link: str) -> str:
    return re.sub(r"^https?://[^/]+", "", link)


def test_a_newcomers_journey(page: Any, lubpur_app: FastAPI, mailbox: Mailbox, lubpur_database_url: str) -> None:
    backend = lubpur_database_url.split(":", maxsplit=1)[0].split("+", maxsplit=1)[0]
    who = steps.Newcomer.fresh()
    with live_server(lubpur_app) as base:
        page.goto(base + "/")
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        steps.shot(page, f"lubpur-home-{backend}")

        steps.register(page, base, who)
        product_path = steps.search_and_favourite(page, base)
        steps.shot(page, f"lubpur-product-{backend}")
        steps.download_datasheet(page)
        steps.purchase_request(page, base, product_path, steps.Purchase())
        steps.consult(page, steps.Consultation())

        # subscribe, and confirm from the real inbox
        steps.ask_to_subscribe(page, who.email)
        mail = mailbox.wait_for(who.email, lambda m: "confirm" in str(m["Subject"]).lower())
        link = re.search(r"https?://\S+/subscribe/confirm\?token=\S+", text_of(mail))
        assert link
        steps.confirm_subscription(page, base + _path_of(link.group(0)), allow_tracking=False)

        # the personal centre shows it all
        page.goto(base + "/me/favourites")
        expect(page.locator("#favourite-list tr")).to_have_count(1)
        expect(page.locator("#download-list tr")).to_have_count(1)
        page.goto(base + "/me/footprints")
        assert page.locator("#footprint-list tr").count() >= 1
        page.goto(base + "/me/privacy")
        assert "Subscribed" in (page.text_content("#choice-marketing_email") or "")
        steps.shot(page, f"lubpur-privacy-{backend}")
        page.goto(base + "/")
        assert page.locator("#recommendations").get_attribute("data-personalised") == "yes"
        page.goto(base + "/me")
        expect(page.locator("#privacy-centre-link")).to_have_count(1)
        steps.shot(page, f"lubpur-personal-centre-{backend}")
