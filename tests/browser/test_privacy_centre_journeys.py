"""The privacy centre's journeys in Chromium against a live server (request worker and outbox sender running, mail
to a real DevMail SMTP server) on a real database, with the person's data in a real shop database:

sign in by code → what we hold → download the copy → withdraw a consent → delete; staff sign in with TOTP →
refuse with a ground → the person reads it; a policy change → the question first → separate answers recorded;
a viewer cannot approve (403)."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from sqlalchemy.orm import Session, sessionmaker

from charter.consent.models import ConsentEvent
from charter.core.crypto import Keyring
from charter.core.settings import Settings
from charter.policy.services import PolicyStore
from tests.browser.centre_world import (
    Live,
    person_signs_in,
    serve_live,
    settle,
    staff_signs_in,
    world,
)
from tests.factories import make_staff
from tests.live import ARTIFACTS, reload_until
from tests.requests.world import ANN_EMAIL, policy_with_recipient

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with serve_live(settings, tmp_path_factory) as served:
        yield served


def test_sign_in_by_code_see_held_data_download_withdraw_delete(
        page: Any, live: Live, sessions: sessionmaker[Session], keyring: Keyring) -> None:
    cid = world(sessions, keyring, live)
    person_signs_in(page, live, cid)
    page.wait_for_url(f"**/center/{cid}/data")
    held = page.text_content("main")
    assert "Phone number" in held and "Acme shop" in held and "region CN" in held
    page.screenshot(path=str(ARTIFACTS / "center-what-we-hold.png"), full_page=True)

    page.click("nav.menu >> text=Your requests")
    page.click("#ask-access button")
    page.wait_for_url("**/requests?sent=access")
    reload_until(page, "text=Download my data")
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
    reload_until(page, "tr[data-kind=erasure][data-status^=completed]")
    page.screenshot(path=str(ARTIFACTS / "center-deleted.png"), full_page=True)


def test_staff_refuse_with_a_ground_and_the_person_sees_it(
        browser: Any, live: Live, sessions: sessionmaker[Session], keyring: Keyring) -> None:
    cid = world(sessions, keyring, live, needs_approval=True)
    person = browser.new_context(locale="en-US").new_page()
    staff = browser.new_context(locale="en-US").new_page()
    try:
        person_signs_in(person, live, cid)
        person.goto(f"{live.url}/center/{cid}/requests")
        before = len(live.mail.messages)
        person.click("#ask-erasure button")
        settle(live.mail, before + 1)  # "we received your request"
        person.goto(f"{live.url}/center/{cid}/requests")
        assert "Waiting for review" in person.text_content("tr[data-kind=erasure]")

        staff_signs_in(staff, live, make_staff(sessions, cid, "privacy_officer"))
        staff.click("nav.menu >> text=Requests")
        staff.click("table.queue a")
        staff.select_option("select[name=ground]", "national_security")
        before = len(live.mail.messages)
        staff.click("#refuse")
        assert "Refused" in staff.text_content("#state")
        settle(live.mail, before + 1)  # the refusal, with its ground, by email
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
    cid = world(sessions, keyring, live)
    doc = yaml.safe_load(policy_with_recipient(cid))
    doc["version"], doc["effective"] = "2.0", "2024-06-01"
    for pid in ("surveys", "research"):
        doc["purposes"].append({
            "id": pid, "label": {"zh": pid, "en": pid.title()}, "description": {"zh": pid, "en": f"About {pid}"},
            "legal_basis": "consent", "is_essential": False, "consent": "general", "categories": ["contact.email"],
            "retention": {"days": 30, "text": {"zh": "30天", "en": "30 days"}}})
    with sessions() as s, s.begin():
        PolicyStore(s).publish(cid, yaml.safe_dump(doc, allow_unicode=True), source="p2.yaml", actor="test")
    person_signs_in(page, live, cid)
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
    cid = world(sessions, keyring, live, needs_approval=True)
    with sessions() as s, s.begin():
        from charter.requests.services import RequestService  # noqa: PLC0415

        request_id = RequestService(s, keyring).submit_for_subject(
            cid, _subject(sessions, keyring, cid), kind="erasure", identity_kind="email", identity_value=ANN_EMAIL,
            verified_by="center-code", actor="test").request.id
    staff_signs_in(page, live, make_staff(sessions, cid, "viewer"))
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

