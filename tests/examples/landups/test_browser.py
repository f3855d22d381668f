"""A person walks through Landups in Chromium: register → real-name authentication with an ID photo → cloud
market order → offline delivery request → login records, in Traditional Chinese and in English."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from landups.db import unit_of_work
from landups.models import CloudOrder, IdPhoto, LoginEvent, OfflineDelivery, RealNameRecord, User
from landups.web.context import AppState
from tests.examples.landups.factories import PASSWORD, VALID_HKID, photo_bytes, unique_email
from tests.live import ARTIFACTS, live_server

pytestmark = pytest.mark.browser

WORDS = {   # what the page says at each step, in the language the browser asks for
    "zh-HK": {"welcome": "歡迎", "pending": "待審核", "placed": "已提交", "requested": "已申請",
              "logins": "您的登入記錄", "success": "登入成功", "bad_id": "檢查碼不符"},
    "en-GB": {"welcome": "Welcome", "pending": "Awaiting review", "placed": "placed", "requested": "Requested",
              "logins": "Your login records", "success": "Logged in", "bad_id": "check digit does not match"},
}


@pytest.fixture
def base_url(landups_app: FastAPI) -> Iterator[str]:
    with live_server(landups_app) as url:
        yield url


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"landups-{name}.png"), full_page=True)


@pytest.mark.parametrize("locale", ["zh-HK", "en-GB"])
def test_register_authenticate_order_deliver_and_see_login_records(
        browser: Any, base_url: str, state: AppState, tmp_path: Path, locale: str) -> None:
    words = WORDS[locale]
    tag = f"{locale}-{'sqlite' if state.settings.database_url.startswith('sqlite') else 'mariadb'}"
    context = browser.new_context(locale=locale, viewport={"width": 1200, "height": 900})
    page = context.new_page()
    try:
        email = unique_email("browser")
        page.goto(base_url + "/register")
        page.fill("#f-email", email)
        page.fill("#f-password", PASSWORD)
        page.fill("#f-password_again", PASSWORD)
        page.fill("#f-name", "陳大文" if locale == "zh-HK" else "Chan Tai Man")
        page.fill("#f-phone", "9123 4567")
        page.check("#f-accept_policy")
        page.check("#f-consent_surveys")
        _shot(page, f"{tag}-1-register")
        page.click("button.primary")
        page.wait_for_url("**/console")
        assert words["welcome"] in page.text_content("h1")

        # real-name authentication: a wrong check digit first, then the right number with an ID photo
        photo = tmp_path / "hkid.jpg"
        photo.write_bytes(photo_bytes("JPEG", size=(860, 540), exif_gps=True))
        page.goto(base_url + "/real-name")
        page.fill("#f-full_name", "CHAN, Tai Man")
        page.select_option("#f-id_type", "hkid")
        page.fill("#f-id_number", "A123456(4)")
        page.set_input_files("#f-id_photo", str(photo))
        page.click("button.primary")
        assert words["bad_id"] in page.text_content('p.field-error[data-field="id_number"]')
        _shot(page, f"{tag}-2-real-name-error")
        page.fill("#f-id_number", VALID_HKID)
        page.set_input_files("#f-id_photo", str(photo))
        page.click("button.primary")
        page.wait_for_selector("#real-name-record")
        assert words["pending"] in page.text_content("#real-name-record")
        assert page.text_content("#masked-id").strip() == "A******(3)"
        _shot(page, f"{tag}-3-real-name-submitted")

        # cloud market order of an appliance that can be delivered on site
        page.goto(base_url + "/market")
        page.select_option("#f-sku", "pc.box")
        page.select_option("#f-term_months", "12")
        page.fill("#f-quantity", "1")
        page.fill("#f-contact_person", "李小姐" if locale == "zh-HK" else "Ms Lee")
        page.fill("#f-contact_info", "lee@example.com")
        page.click("button.primary")
        page.wait_for_selector("#placed")
        assert words["placed"] in page.text_content("#placed")
        _shot(page, f"{tag}-4-order")

        # offline delivery request for that order
        page.click("#orders a[href^='/delivery?order=']")
        page.wait_for_selector("#f-address")
        page.fill("#f-contact_person", "李小姐" if locale == "zh-HK" else "Ms Lee")
        page.fill("#f-contact_info", "+852 2123 4567")
        page.fill("#f-address", "香港九龍觀塘道 100 號 12 樓")
        page.fill("#f-preferred_date", (date.today() + timedelta(days=14)).isoformat())
        page.click("button.primary")
        page.wait_for_selector("#deliveries")
        assert "香港九龍觀塘道 100 號 12 樓" in page.text_content("#deliveries")
        assert words["requested"] in page.text_content("#deliveries")
        _shot(page, f"{tag}-5-delivery")

        # log out, log back in, and see the login records
        page.click("header form[action='/logout'] button")
        page.goto(base_url + "/login")
        page.fill("#f-email", email)
        page.fill("#f-password", PASSWORD)
        page.click("button.primary")
        page.wait_for_url("**/console")
        page.goto(base_url + "/account/logins")
        assert words["logins"] in page.text_content("h1")
        records = page.text_content("#login-records")
        assert words["success"] in records and "127.0.0.1" in records and "Chrome" in records
        assert "/real-name" in page.text_content("#page-views")
        _shot(page, f"{tag}-6-login-records")
    finally:
        context.close()

    with unit_of_work(state.factory) as session:
        user = session.scalars(select(User).where(User.email == email)).one()
        assert user.language == ("zh-TW" if locale == "zh-HK" else "en")
        record = session.scalars(select(RealNameRecord).where(RealNameRecord.user_id == user.id)).one()
        assert VALID_HKID not in record.id_number_sealed
        stored = session.get(IdPhoto, record.photo_id)
        assert stored is not None and (state.vault.directory / stored.stored_name).exists()
        assert session.scalars(select(CloudOrder).where(CloudOrder.user_id == user.id)).one().sku == "pc.box"
        assert session.scalars(select(OfflineDelivery).where(OfflineDelivery.user_id == user.id)).one()
        outcomes = session.scalars(select(LoginEvent.outcome).where(LoginEvent.user_id == user.id)).all()
        assert list(outcomes) == ["success", "success"]
