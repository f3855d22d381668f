"""The privacy centre's journeys in Chromium against a live server (request worker and outbox sender running, mail
to a real DevMail SMTP server) on a real database, with the person's data in a real shop database:

sign in by code → what we hold → download the copy → withdraw a consent → delete; staff sign in with TOTP →
refuse with a ground → the person reads it; a policy change → the question first → separate answers recorded;
a viewer cannot approve (403)."""

from __future__ import annotations

import os
import re
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyotp
import pytest
import yaml
from sqlalchemy.orm import Session, sessionmaker

from charter.consent.models import ConsentEvent
from charter.core.crypto import Keyring
from charter.core.settings import Settings
from charter.datamap.services import DataMapStore
from charter.devmail import DevMail
from charter.policy.services import PolicyStore
from charter.requests.staff import StaffDesk
from tests.connectors.shop_tables import HASH_KEY, shop_database
from tests.factories import StaffAccount, make_staff
from tests.live import ARTIFACTS, free_port, live_server
from tests.requests.world import ANN_EMAIL, policy_with_recipient, publish_world, shop_map_text

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Live:
    url: str
    mail: DevMail
    shop_url: str


@pytest.fixture(scope="module")
def live(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    from charter.web.app import create_app  # noqa: PLC0415 - one live server per backend

    port = free_port()
    saved = {k: os.environ.get(k) for k in ("CHARTER_SECRET_SHOP_DB", "CHARTER_SECRET_SHOP_HASH_KEY")}
    with DevMail(web_port=None) as mail, shop_database("sqlite", tmp_path_factory.mktemp("shop")) as shop_url:
        os.environ["CHARTER_SECRET_SHOP_DB"] = shop_url
        os.environ["CHARTER_SECRET_SHOP_HASH_KEY"] = HASH_KEY.decode()
        try:
            app = create_app(settings.model_copy(update={
                "outbox_worker": True, "outbox_interval": 0.2, "smtp_port": mail.smtp_port, "request_worker": True,
                "base_url": f"http://127.0.0.1:{port}"}))
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        with live_server(app, port) as url:
            yield Live(url, mail, shop_url)
        app.state.engine.dispose()


def _world(sessions: sessionmaker[Session], keyring: Keyring, live: Live, *, needs_approval: bool = False) -> str:
    tenant, _ann = publish_world(sessions, keyring, live.shop_url, kind="sqlite")
    cid = tenant.controller_id
    with sessions() as s, s.begin():
        DataMapStore(s).publish(cid, shop_map_text(cid, keep_manual=False, version="2"), source="datamap.yaml",
                                actor="test")
        if needs_approval:
            StaffDesk(s, keyring).set_needs_approval(cid, True, actor="test")
    return cid


def _code_for(mail: DevMail, address: str) -> str:
    for _ in range(100):
        for message in reversed(mail.messages):
            if address in message.rcpt_tos:
                found = re.search(r"(?<!\d)\d{6}(?!\d)", message.text)
                if found:
                    return found.group(0)
        time.sleep(0.1)
    raise AssertionError("no code arrived")


def _settle(mail: DevMail, expected: int) -> None:
    """Wait for the outbox to deliver what the last action queued. On SQLite the audit chain takes one writer at a
    time; the sender's writes and a page's read event must not overlap (see the report on BEGIN IMMEDIATE)."""
    mail.wait_for(expected, timeout=10)
    time.sleep(0.3)


def _person_signs_in(page: Any, live: Live, cid: str) -> None:
    live.mail.clear()
    page.goto(f"{live.url}/center/{cid}/sign-in")
    page.fill("input[name=identity]", ANN_EMAIL)
    page.click("main button[type=submit]")
    page.wait_for_url("**/sign-in/code")
    page.fill("input[name=code]", _code_for(live.mail, ANN_EMAIL))
    page.click("main button[type=submit]")


def _staff_signs_in(page: Any, live: Live, account: StaffAccount) -> None:
    page.goto(live.url + "/admin/sign-in")
    page.fill("input[name=controller]", account.controller_id)
    page.fill("input[name=email]", account.email)
    page.fill("input[name=password]", account.password)
    page.click("main button[type=submit]")
    page.wait_for_url("**/admin/sign-in/code")
    assert account.totp_secret
    page.fill("input[name=code]", pyotp.TOTP(account.totp_secret).now())
    page.click("main button[type=submit]")
    page.wait_for_url("**/admin")


def _until(page: Any, selector: str, tries: int = 60) -> None:
    """Reload until `selector` shows: the request worker runs in the background."""
    for _ in range(tries):
        if page.locator(selector).count():
            return
        time.sleep(0.25)
        page.reload()
    raise AssertionError(f"{selector} never appeared")


def test_sign_in_by_code_see_held_data_download_withdraw_delete(
        page: Any, live: Live, sessions: sessionmaker[Session], keyring: Keyring) -> None:
    cid = _world(sessions, keyring, live)
    _person_signs_in(page, live, cid)
    page.wait_for_url(f"**/center/{cid}/data")
    held = page.text_content("main")
    assert "Phone number" in held and "Acme shop" in held and "region CN" in held
    page.screenshot(path=str(ARTIFACTS / "center-what-we-hold.png"), full_page=True)

    page.click("nav.menu >> text=Your requests")
    page.click("#ask-access button")
    page.wait_for_url("**/requests?sent=access")
    _until(page, "text=Download my data")
    with page.expect_download() as download:
        page.click("text=Download my data")
    saved = ARTIFACTS / "center-my-data.zip"
    download.value.save_as(str(saved))
    with zipfile.ZipFile(saved) as archive:
        assert ANN_EMAIL in archive.read("bundle.json").decode()
    page.screenshot(path=str(ARTIFACTS / "center-requests-export.png"), full_page=True)

    page.click("nav.menu >> text=Your consents")
    page.click("#purpose-marketing button[type=submit]")  # give
    assert "Given" in page.text_content("#purpose-marketing .state")
    page.click("#purpose-marketing button[type=submit]")  # withdraw
    assert "Withdrawn" in page.text_content("#purpose-marketing .state")
    page.screenshot(path=str(ARTIFACTS / "center-consent-withdrawn.png"), full_page=True)

    page.click("nav.menu >> text=Your requests")
    page.click("#ask-erasure button")
    page.wait_for_url("**/requests?sent=erasure")
    _until(page, "tr[data-kind=erasure][data-status^=completed]")
    page.screenshot(path=str(ARTIFACTS / "center-deleted.png"), full_page=True)


def test_staff_refuse_with_a_ground_and_the_person_sees_it(
        browser: Any, live: Live, sessions: sessionmaker[Session], keyring: Keyring) -> None:
    cid = _world(sessions, keyring, live, needs_approval=True)
    person = browser.new_context(locale="en-US").new_page()
    staff = browser.new_context(locale="en-US").new_page()
    try:
        _person_signs_in(person, live, cid)
        person.goto(f"{live.url}/center/{cid}/requests")
        before = len(live.mail.messages)
        person.click("#ask-erasure button")
        _settle(live.mail, before + 1)  # "we received your request"
        person.goto(f"{live.url}/center/{cid}/requests")
        assert "Waiting for review" in person.text_content("tr[data-kind=erasure]")

        _staff_signs_in(staff, live, make_staff(sessions, cid, "privacy_officer"))
        staff.click("nav.menu >> text=Requests")
        staff.click("table.queue a")
        staff.select_option("select[name=ground]", "national_security")
        before = len(live.mail.messages)
        staff.click("#refuse")
        assert "Refused" in staff.text_content("#state")
        _settle(live.mail, before + 1)  # the refusal, with its ground, by email
        staff.screenshot(path=str(ARTIFACTS / "admin-request-refused.png"), full_page=True)

        person.reload()
        refusal = person.text_content("tr[data-kind=erasure] .refusal")
        assert "Refused because:" in refusal
        person.screenshot(path=str(ARTIFACTS / "center-request-refused.png"), full_page=True)
    finally:
        person.context.close()
        staff.context.close()


def test_a_policy_change_asks_first_with_separate_answers(
        page: Any, live: Live, sessions: sessionmaker[Session], keyring: Keyring) -> None:
    cid = _world(sessions, keyring, live)
    doc = yaml.safe_load(policy_with_recipient(cid))
    doc["version"], doc["effective"] = "2.0", "2024-06-01"
    for pid in ("surveys", "research"):
        doc["purposes"].append({
            "id": pid, "label": {"zh": pid, "en": pid.title()}, "description": {"zh": pid, "en": f"About {pid}"},
            "legal_basis": "consent", "is_essential": False, "consent": "general", "categories": ["contact.email"],
            "retention": {"days": 30, "text": {"zh": "30天", "en": "30 days"}}})
    with sessions() as s, s.begin():
        PolicyStore(s).publish(cid, yaml.safe_dump(doc, allow_unicode=True), source="p2.yaml", actor="test")
    _person_signs_in(page, live, cid)
    page.wait_for_url(f"**/center/{cid}/reconsent")
    assert "Our privacy policy has changed" in page.text_content("h1")
    page.goto(f"{live.url}/center/{cid}/consents")  # nothing else opens first
    page.wait_for_url(f"**/center/{cid}/reconsent")
    page.check("#ask-surveys input[value=grant]")
    page.check("#ask-research input[value=refuse]")
    page.screenshot(path=str(ARTIFACTS / "center-reconsent.png"), full_page=True)
    page.click("main button[type=submit]")
    page.wait_for_url(f"**/center/{cid}/data")
    with sessions() as s:
        answers = sorted((e.purpose, e.action) for e in s.query(ConsentEvent).filter(ConsentEvent.controller_id == cid))
    assert answers == [("research", "refuse"), ("surveys", "grant")]


def test_a_viewer_cannot_approve(page: Any, live: Live, sessions: sessionmaker[Session], keyring: Keyring) -> None:
    cid = _world(sessions, keyring, live, needs_approval=True)
    with sessions() as s, s.begin():
        from charter.requests.services import RequestService  # noqa: PLC0415

        request_id = RequestService(s, keyring).submit_for_subject(
            cid, _subject(sessions, keyring, cid), kind="erasure", identity_kind="email", identity_value=ANN_EMAIL,
            verified_by="center-code", actor="test").request.id
    _staff_signs_in(page, live, make_staff(sessions, cid, "viewer"))
    page.goto(f"{live.url}/admin/requests/{request_id}")
    assert page.locator("#approve").count() == 0
    token = page.input_value("input[name=csrf]")
    response = page.request.post(f"{live.url}/admin/requests/{request_id}/approve", form={"csrf": token})
    assert response.status == 403
    page.goto(f"{live.url}/admin/requests")
    page.screenshot(path=str(ARTIFACTS / "admin-viewer-requests.png"), full_page=True)


def _subject(sessions: sessionmaker[Session], keyring: Keyring, cid: str) -> str:
    from charter.subjects.services import SubjectDirectory  # noqa: PLC0415

    with sessions() as s:
        found = SubjectDirectory(s, keyring).find(cid, "email", ANN_EMAIL)
        assert found is not None
        return found.id

