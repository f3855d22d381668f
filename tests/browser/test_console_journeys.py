"""The pages of issue 5's last gaps in Chromium against a live server (workers running, mail to DevMail) on a real
database: an appeal handled in the console and its answer read in the centre; the data map, recipients and
consent statistics pages (also on a phone-sized screen, with no Content Security Policy violation); a guardian
signing in by code and giving consent for a minor, who sees that their guardian must act; the host's link opening
on a confirm page and signing in only by its button."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from charter.accounts.services import ApiKeyService
from charter.consent.models import ConsentEvent
from charter.consent.schemas import ConsentIn, GuardianIn
from charter.consent.services import ConsentLedger
from charter.core.crypto import Keyring
from charter.core.db import transaction
from charter.core.i18n import Text
from charter.core.settings import Settings
from charter.decisions.services import load_terms
from charter.devmail import DevMail
from charter.disclosures.services import DisclosureLog
from charter.requests.automated import AutomatedDecisions
from charter.sdk import Client
from charter.subjects.age import add_years
from charter.subjects.services import SubjectDirectory
from tests.browser.centre_world import Live, person_signs_in, serve_live, staff_signs_in, world
from tests.factories import make_staff
from tests.live import ARTIFACTS, reload_until
from tests.requests.world import ANN_EMAIL

pytestmark = pytest.mark.browser

KID_EMAIL, PARENT_EMAIL = "kid@example.com", "parent@example.com"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def live(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with serve_live(settings, tmp_path_factory) as served:
        yield served


def _ann(sessions: sessionmaker[Session], keyring: Keyring, cid: str) -> str:
    with sessions() as s:
        found = SubjectDirectory(s, keyring).find(cid, "email", ANN_EMAIL)
        assert found is not None
        return found.id


def quiet(mail: DevMail, seconds: float = 0.6) -> None:
    """Wait until the outbox has sent what the last action queued (no new mail for a moment): on SQLite the audit
    chain takes one writer at a time, and the sender's writes must not overlap the next page's read event."""
    seen, still = -1, time.monotonic()
    while time.monotonic() - still < seconds:
        if len(mail.messages) != seen:
            seen, still = len(mail.messages), time.monotonic()
        time.sleep(0.1)


def csp_violations(page: Any) -> list[str]:
    found: list[str] = []
    page.on("console", lambda message: found.append(message.text)
            if "Content Security Policy" in message.text else None)
    return found


def test_an_appeal_is_reviewed_in_the_console_and_answered_in_the_centre(
        browser: Any, live: Live, sessions: sessionmaker[Session], keyring: Keyring) -> None:
    cid = world(sessions, keyring, live)
    ann = _ann(sessions, keyring, cid)
    with transaction(sessions) as s:
        AutomatedDecisions(s, keyring).record(
            cid, ann, kind="credit_limit", logic_version="2024.3", outcome="declined",
            inputs={"orders_last_year": 1}, explanation=Text(zh="去年订单太少", en="Too few orders last year"),
            actor="test")
    person = browser.new_context(locale="en-US").new_page()
    staff = browser.new_context(locale="en-US").new_page()
    try:
        person_signs_in(person, live, cid)
        person.wait_for_url(f"**/center/{cid}/data")
        person.click("nav.menu >> text=Your requests")
        person.click("#decisions button[type=submit]")
        person.wait_for_url("**/requests?sent=explanation")
        reload_until(person, "textarea[name=statement]")
        quiet(live.mail)
        person.fill("textarea[name=statement]", "I ordered twice last year.")
        person.click("tr[data-kind=explanation] button[type=submit]")
        person.wait_for_url("**/requests?appealed=1")
        assert "waiting for a person" in person.text_content("tr[data-kind=explanation] .appeal")

        staff_signs_in(staff, live, make_staff(sessions, cid, "operator"))
        staff.click("nav.menu >> text=Appeals")
        staff.wait_for_url("**/admin/appeals")
        staff.click("table.appeals tbody tr td a")
        assert "orders_last_year" in staff.text_content("#decision")
        assert "I ordered twice last year." in staff.text_content("#statement")
        staff.check("input[name=outcome][value=overturned]")
        staff.fill("textarea[name=note]", "Two orders are in the archive; the limit is granted.")
        staff.click("#decide")
        staff.wait_for_selector("#appeal-state .overturned")
        staff.screenshot(path=str(ARTIFACTS / "admin-appeal-overturned.png"), full_page=True)

        person.goto(f"{live.url}/center/{cid}/requests")
        answer = person.text_content("tr[data-kind=explanation] .appeal")
        assert "overturned it" in answer and "Two orders are in the archive" in answer
        person.screenshot(path=str(ARTIFACTS / "center-appeal-answered.png"), full_page=True)
    finally:
        person.context.close()
        staff.context.close()


def test_the_data_map_recipients_and_consent_statistics_pages(
        browser: Any, live: Live, sessions: sessionmaker[Session], keyring: Keyring) -> None:
    cid = world(sessions, keyring, live)
    with transaction(sessions) as s:
        ann = SubjectDirectory(s, keyring).find(cid, "email", ANN_EMAIL)
        assert ann is not None
        DisclosureLog(s).record(cid, ann.id, recipient_id="mailer", categories=["contact.email"], actor="test")
        ConsentLedger(s, keyring).record(cid, ConsentIn(subject_id=ann.id, purpose="marketing"),
                                         load_terms(s, cid, dt.date.today()), actor="test")
    for name, viewport in (("desktop", None), ("phone", PHONE)):
        account = make_staff(sessions, cid, "viewer")  # a code is accepted once: one account per sign-in
        context = browser.new_context(locale="en-US", **({"viewport": viewport} if viewport else {}))
        page = context.new_page()
        violations = csp_violations(page)
        try:
            staff_signs_in(page, live, account)
            page.goto(f"{live.url}/admin/datamap")
            assert "Acme shop" in page.text_content("main")
            assert "Phone number" in page.text_content("tr[data-field='customers.phone']")
            page.screenshot(path=str(ARTIFACTS / f"admin-datamap-{name}.png"), full_page=True)

            page.click("nav.menu >> text=Recipients")
            mailer = page.text_content("#recipient-mailer")
            for shown in ("Mail provider", "dpo@mailer.example", "Sends email on our behalf"):
                assert shown in mailer, shown
            assert "1 disclosures" in " ".join(mailer.split())
            page.screenshot(path=str(ARTIFACTS / f"admin-recipients-{name}.png"), full_page=True)

            page.click("nav.menu >> text=Consents")
            assert page.text_content("#purpose-marketing .grants") == "1"
            today = dt.date.today()
            page.fill("input[name=from]", "2000-01-01")
            page.fill("input[name=to]", "2000-12-31")
            page.click("form.filters button[type=submit]")
            page.wait_for_url("**/admin/consents?from=2000-01-01&to=2000-12-31")
            assert page.text_content("#purpose-marketing .grants") == "0"
            assert page.text_content("#purpose-marketing .granted-now") == "1"
            page.goto(f"{live.url}/admin/consents?from={today.isoformat()}&to={today.isoformat()}")
            assert page.text_content("#purpose-marketing .grants") == "1"
            page.screenshot(path=str(ARTIFACTS / f"admin-consent-statistics-{name}.png"), full_page=True)
            for path in ("/admin/datamap", "/admin/recipients", "/admin/consents"):
                page.goto(live.url + path)
                assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), (name, path)
            assert violations == []
        finally:
            context.close()


def _minor_with_a_guardian(sessions: sessionmaker[Session], keyring: Keyring, cid: str) -> str:
    with transaction(sessions) as s:
        directory = SubjectDirectory(s, keyring)
        kid = directory.resolve(cid, "email", KID_EMAIL, actor="test").id
        directory.set_latest_birth(cid, kid, add_years(dt.date.today(), -10), "birth_date", actor="test")
        guardian = GuardianIn(name="Wang Fang", relationship="parent", contact=PARENT_EMAIL,  # type: ignore[arg-type]
                              verification_method="id_document",  # type: ignore[arg-type]
                              verified_at=dt.datetime(2024, 5, 1, tzinfo=dt.UTC), rules_version="1.0")
        ConsentLedger(s, keyring).record(cid, ConsentIn(subject_id=kid, purpose="marketing", action="guardian_grant",
                                                        guardian=guardian),
                                         load_terms(s, cid, dt.date.today()), actor="test")
    return kid


def test_a_guardian_gives_consent_for_a_minor_who_sees_their_guardian_must_act(
        browser: Any, live: Live, sessions: sessionmaker[Session], keyring: Keyring) -> None:
    cid = world(sessions, keyring, live)
    kid = _minor_with_a_guardian(sessions, keyring, cid)
    child = browser.new_context(locale="en-US", viewport=PHONE).new_page()
    parent = browser.new_context(locale="en-US").new_page()
    try:
        person_signs_in(child, live, cid, KID_EMAIL)
        child.wait_for_url(f"**/center/{cid}/data")
        assert "your parent or guardian must give consents" in child.text_content("#guardian-must-act")
        child.click("nav.menu >> text=Your consents")
        assert "Your parent or guardian must give this consent." in child.text_content("#purpose-payouts")
        child.screenshot(path=str(ARTIFACTS / "center-minor-guardian-must-act.png"), full_page=True)
        quiet(live.mail)

        person_signs_in(parent, live, cid, PARENT_EMAIL, as_guardian=True)
        parent.wait_for_url(f"**/center/{cid}/data")
        assert "parent or guardian" in parent.text_content("#acting-as-guardian")
        parent.click("nav.menu >> text=Your consents")
        parent.click("#purpose-payouts button[type=submit]")
        assert "Given" in parent.text_content("#purpose-payouts .state")
        parent.screenshot(path=str(ARTIFACTS / "center-guardian-consents.png"), full_page=True)
    finally:
        child.context.close()
        parent.context.close()
    with sessions() as s:
        given = s.execute(select(ConsentEvent).where(ConsentEvent.controller_id == cid,
                                                     ConsentEvent.subject_id == kid, ConsentEvent.purpose == "payouts")
                          ).scalar_one()
    assert given.action == "guardian_grant" and given.actor.startswith("guardian:")


def test_the_hosts_link_opens_a_confirm_page_and_signs_in_by_its_button(
        page: Any, live: Live, sessions: sessionmaker[Session], keyring: Keyring) -> None:
    cid = world(sessions, keyring, live)
    with transaction(sessions) as s:
        secret = ApiKeyService(s).create(cid, "host", "secret", actor="test").token
    ann = _ann(sessions, keyring, cid)
    url = Client(live.url, secret).privacy_centre_link(ann, lang="en")
    page.goto(url)
    page.wait_for_selector("#enter")
    assert "a••@example.com" in page.text_content("#enter .who")
    page.screenshot(path=str(ARTIFACTS / "center-link-confirm.png"), full_page=True)
    page.goto(f"{live.url}/center/{cid}/data")  # opening the link signed nobody in
    page.wait_for_url(f"**/center/{cid}/sign-in")
    page.goto(url)
    page.click("#continue")
    page.wait_for_url(f"**/center/{cid}/data")
    assert "Signed in" in page.text_content("header")
    page.context.clear_cookies()
    page.goto(url)  # used once: the link now leads to the code sign-in
    page.wait_for_url(f"**/center/{cid}/sign-in")
