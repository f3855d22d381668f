"""Issue 7's "done when", walked once in Chromium against real servers: Landups and Charter each served by uvicorn
on loopback (wired only through Charter's SDK, data map and Landups' signed webhook), Landups' database on SQLite
and on a fresh MariaDB, and a real SMTP server catching the mail Landups sends.

register → real-name authentication with an ID photo → cloud market order → offline delivery → website filing →
the support desk hands both over (disclosures) → survey invitation mailed → surveys consent withdrawn → the next
invitation run mails everyone else but not this person → Landups' link into Charter's privacy centre (zh-TW, then
en) → access request, due within PDPO's 40 days, its export downloaded and read (login records, orders, filing,
which third party holds what) → address corrected in the centre and changed in Landups' table → account
cancellation → nothing identifying left in Landups' database but the retention-locked order rows, the person
restricted in Charter → both ID photo files gone from disk → Charter's audit chain verifies.

Screenshots of every step: test-artifacts/landups-journey-<backend>-NN-<step>.png.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from charter.audit.services import AuditLog
from charter.core.i18n import Lang as CharterLang
from charter.devmail import DevMail, ReceivedMail
from charter.requests.models import DataRequest, HeldItem
from charter.sdk import Client
from charter.subjects.models import Subject
from charter.web.ui.i18n import Catalogues, long_date
from landups.db import unit_of_work
from landups.i18n import Lang
from landups.messages import translate
from landups.models import Base, CharterCall, CharterSubject, CloudOrder, IdPhoto, User
from landups.staffdesk import StaffService
from tests.examples.landups.factories import PASSWORD, VALID_HKID, photo_bytes, post, unique_email
from tests.examples.landups.live_charter import CONTROLLER, Pair, landups_with_charter
from tests.live import ARTIFACTS, reload_until
from tests.services import fresh_mariadb_database

pytestmark = pytest.mark.browser

PDPO_DAYS = 40
KEPT_TABLES = {"users", "cloud_orders", "data_reads"}
"""Where a cancelled person's rows may stay: the anonymised account row the kept orders hang on, the orders
(billing records, 7 years) and the record of who read their data (a year, for security)."""

TW = Lang.ZH_TW
CATALOGUES = Catalogues.load()


@dataclass
class Person:
    """What the walk gives Landups, every piece of it identifying."""

    email: str = field(default_factory=lambda: unique_email("journey"))
    name: str = "陳大文"
    phone: str = "9123 4567"
    full_name: str = "CHAN, Tai Man"
    address: str = "香港灣仔告士打道 1 號 8 樓"
    corrected: str = "香港灣仔軒尼詩道 2 號 3 樓"
    delivery_address: str = "香港九龍觀塘道 100 號 12 樓"
    contact_person: str = "李小姐"
    contact_info: str = "lee.journey@example.com"
    domain: str = field(default_factory=lambda: f"chan-{uuid.uuid4().hex[:6]}.hk")
    site_name: str = "陳氏工作室"

    def identifying(self) -> list[str]:
        return [self.email, self.name, "91234567", self.full_name, self.address, self.corrected,
                self.delivery_address, self.contact_person, self.contact_info, self.domain, self.site_name, VALID_HKID]


class Walk:
    """The page, its screenshots and the servers behind it."""

    def __init__(self, page: Any, pair: Pair, mail: DevMail, tag: str) -> None:
        self.page, self.pair, self.mail, self.tag = page, pair, mail, tag
        self.step = 0

    def shot(self, name: str, page: Any = None) -> None:
        self.step += 1
        ARTIFACTS.mkdir(exist_ok=True)
        (page or self.page).screenshot(path=str(ARTIFACTS / f"landups-journey-{self.tag}-{self.step:02d}-{name}.png"),
                                       full_page=True)

    def landups(self, path: str) -> None:
        self.page.goto(self.pair.landups_url + path)


@pytest.fixture(params=["sqlite", "mariadb"])
def landups_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A Landups database of the walk's own, so every survey run and every scan below sees only what it made."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'landups-journey.db'}"
        return
    with fresh_mariadb_database() as url:
        yield url


def _tw(message: str) -> str:
    return str(CATALOGUES.get(CharterLang.ZH_TW).gettext(message))


def _mail_to(mail: DevMail, address: str) -> list[ReceivedMail]:
    return [m for m in mail.messages if address in m.rcpt_tos]


def _wait_mail(mail: DevMail, address: str, count: int, timeout: float = 15.0) -> list[ReceivedMail]:
    deadline = time.monotonic() + timeout
    while len(found := _mail_to(mail, address)) < count:
        assert time.monotonic() < deadline, f"{count} letter(s) to {address} never arrived"
        time.sleep(0.1)
    return found


def _user(pair: Pair, email: str) -> User:
    with unit_of_work(pair.landups.factory) as session:
        return session.scalars(select(User).where(User.email == email)).one()


def _all_delivered(pair: Pair, user_id: int) -> None:
    """Every report Landups queued for this person has reached Charter (the courier also runs on its own)."""
    pair.deliver()
    with unit_of_work(pair.landups.factory) as session:
        stuck = [(c.kind, c.last_error) for c in session.scalars(select(CharterCall).where(
            CharterCall.user_id == user_id, CharterCall.delivered_at.is_(None)))]
    assert not stuck, stuck


def _staff_desk(walk: Walk, browser: Any) -> Any:
    email = f"staff-{uuid.uuid4().hex[:8]}@landups.example"
    with unit_of_work(walk.pair.landups.factory) as session:
        StaffService(session).create(email, "Support Agent", "staff password 123")
    desk = browser.new_context(locale="en-GB", viewport={"width": 1200, "height": 900}).new_page()
    desk.goto(walk.pair.landups_url + "/staff/login")
    desk.fill("#f-email", email)
    desk.fill("#f-password", "staff password 123")
    desk.click("main button.primary")
    desk.wait_for_url("**/staff")
    return desk


def _control_person(pair: Pair) -> str:
    """Another customer who keeps agreeing to surveys: proof that invitations do go out while one is withheld."""
    email = unique_email("control")
    with httpx.Client(base_url=pair.landups_url, follow_redirects=False, timeout=30) as web:
        response = post(web, "/register", {  # type: ignore[arg-type]
            "email": email, "password": PASSWORD, "password_again": PASSWORD, "name": "Control Person",
            "account_type": "personal", "language": "en", "accept_policy": "yes", "consent_surveys": "yes"})
        assert response.status_code == 303, response.text
    return email


def _register_and_use_landups(walk: Walk, person: Person, tmp_path: Path) -> User:
    page = walk.page
    walk.landups("/register")
    page.fill("#f-email", person.email)
    page.fill("#f-password", PASSWORD)
    page.fill("#f-password_again", PASSWORD)
    page.fill("#f-name", person.name)
    page.fill("#f-phone", person.phone)
    assert page.input_value("#f-language") == "zh-TW"   # the browser asks for zh-HK
    page.check("#f-accept_policy")
    page.check("#f-consent_surveys")
    walk.shot("register")
    page.click("main button.primary")
    page.wait_for_url("**/console")
    assert translate("console.welcome", TW, name=person.name) == page.text_content("h1")

    photo = tmp_path / "hkid.jpg"
    photo.write_bytes(photo_bytes("JPEG", size=(860, 540), exif_gps=True))
    walk.landups("/real-name")
    page.fill("#f-full_name", person.full_name)
    page.select_option("#f-id_type", "hkid")
    page.fill("#f-id_number", VALID_HKID)
    page.set_input_files("#f-id_photo", str(photo))
    page.click("main button.primary")
    page.wait_for_selector("#real-name-record")
    assert page.text_content("#masked-id").strip() == "A******(3)"
    walk.shot("real-name-with-id-photo")

    walk.landups("/account/profile")
    page.fill("#f-address", person.address)
    page.click("main button.primary")
    page.wait_for_selector("p.ok")

    walk.landups("/market")
    page.select_option("#f-sku", "pc.box")
    page.select_option("#f-term_months", "12")
    page.fill("#f-quantity", "1")
    page.fill("#f-contact_person", person.contact_person)
    page.fill("#f-contact_info", person.contact_info)
    page.click("main button.primary")
    page.wait_for_selector("#placed")
    walk.shot("cloud-market-order")

    page.click("#orders a[href^='/delivery?order=']")
    page.wait_for_selector("#f-address")
    page.fill("#f-contact_person", person.contact_person)
    page.fill("#f-contact_info", "+852 2123 4567")
    page.fill("#f-address", person.delivery_address)
    page.fill("#f-preferred_date", (dt.date.today() + dt.timedelta(days=14)).isoformat())
    page.click("main button.primary")
    page.wait_for_selector("#deliveries")
    assert person.delivery_address in page.text_content("#deliveries")
    walk.shot("offline-delivery")

    principal = tmp_path / "principal.png"
    principal.write_bytes(photo_bytes("PNG", size=(640, 400)))
    walk.landups("/filing")
    page.fill("#f-domain", person.domain)
    page.fill("#f-site_name", person.site_name)
    page.select_option("#f-site_category", "personal")
    page.fill("#f-contact_person", person.contact_person)
    page.fill("#f-contact_info", person.contact_info)
    page.set_input_files("#f-id_photo", str(principal))
    page.click("main button.primary")
    page.wait_for_selector("#filings")
    assert person.domain in page.text_content("#filings")
    walk.shot("website-filing")
    return _user(walk.pair, person.email)


def _hand_over_and_invite(walk: Walk, desk: Any, user: User, control: str) -> None:
    """The support desk hands the delivery and the filing to their third parties (Charter asked, each reported as
    a disclosure) and sends the first survey: both people who agreed get it, in their own language."""
    for table in ("offline_deliveries", "website_filings"):
        row = desk.locator(f"#handovers tr[data-table={table}]").filter(has_text=user.account_id)
        row.locator("button").click()
        desk.wait_for_url("**/staff")
        expect(desk.locator("#refused")).to_have_count(0)
    walk.shot("desk-handed-over", desk)

    desk.click("button[name=survey][value='console-2024']")
    desk.wait_for_selector("#survey-run")
    letter = _wait_mail(walk.mail, user.email, 1)[0]
    _wait_mail(walk.mail, control, 1)
    assert letter.subject == translate("mail.survey.subject", TW, survey=translate("survey.console-2024", TW))
    assert user.name in letter.text
    walk.shot("desk-survey-sent", desk)


def _withdraw_surveys_and_invite_again(walk: Walk, desk: Any, user: User, control: str) -> None:
    page = walk.page
    walk.landups("/account/privacy")
    page.click("tr[data-purpose=surveys] button[value=withdraw]")
    page.wait_for_url("**/account/privacy")
    _all_delivered(walk.pair, user.id)
    page.reload()
    assert translate("privacy.not_allowed", TW) in page.text_content("tr[data-purpose=surveys] .state")  # Charter
    walk.shot("surveys-withdrawn")

    before = len(_mail_to(walk.mail, user.email))
    desk.goto(walk.pair.landups_url + "/staff")
    desk.click("button[name=survey][value='support-2024']")
    desk.wait_for_selector("#survey-run")
    # The control person's letter arriving shows the run's mail has gone out; none went to this person.
    support = _wait_mail(walk.mail, control, 2)[-1]
    assert support.subject == translate("mail.survey.subject", Lang.EN, survey=translate("survey.support-2024",
                                                                                          Lang.EN))
    assert len(_mail_to(walk.mail, user.email)) == before == 1
    walk.shot("desk-survey-withheld", desk)


def _open_privacy_centre(walk: Walk) -> None:
    """Landups' link: its server mints a single-use link for this click and redirects; Charter signs the person in
    (at once, or after a confirmation page whose button posts)."""
    page = walk.page
    walk.landups("/console")
    page.click("#privacy-centre")
    page.wait_for_url(f"{walk.pair.charter_url}/center/{CONTROLLER}/**")
    if not page.url.endswith("/data"):
        confirm = page.locator("main form[method=post] button[type=submit]")
        assert confirm.count() == 1, f"neither signed in nor asked to confirm at {page.url}"
        walk.shot("centre-confirm")
        confirm.click()
    page.wait_for_url(f"**/center/{CONTROLLER}/data")
    assert page.get_attribute("html", "lang") == "zh-TW"
    assert page.text_content("main h1") == _tw("What we hold about you")
    walk.shot("centre-zh-TW")
    page.click("nav.langs a[hreflang=en]")
    page.wait_for_url(f"**/center/{CONTROLLER}/data")
    assert page.get_attribute("html", "lang") == "en"
    assert page.text_content("main h1") == "What we hold about you"
    walk.shot("centre-en")


def _charter_request(pair: Pair, subject_id: str, kind: str) -> DataRequest:
    with pair.charter_sessions() as session:
        return session.scalars(select(DataRequest).where(
            DataRequest.subject_id == subject_id, DataRequest.kind == kind)).one()


def _access_and_export(walk: Walk, person: Person, subject_id: str) -> None:
    page = walk.page
    page.click("nav.menu >> text=Your requests")
    page.click("#ask-access button")
    page.wait_for_url("**/requests?sent=access")
    reload_until(page, "tr[data-kind=access] a[href$='/bundle']")
    asked = _charter_request(walk.pair, subject_id, "access")
    assert asked.jurisdictions == ["HK"] and "PDPO" in asked.due_rule
    assert asked.due_on == asked.received_on + dt.timedelta(days=PDPO_DAYS)
    assert asked.due_on <= dt.date.today() + dt.timedelta(days=PDPO_DAYS)
    assert asked.completed_at is not None and asked.completed_at.date() <= asked.due_on   # answered in time
    row = page.locator("tr[data-kind=access]")
    assert long_date(asked.due_on, CharterLang.EN) in row.text_content()
    walk.shot("access-answered")

    with page.expect_download() as download:
        row.locator("a[href$='/bundle']").click()
    saved = ARTIFACTS / f"landups-journey-{walk.tag}-export.zip"
    download.value.save_as(str(saved))
    with zipfile.ZipFile(saved) as archive:
        bundle = json.loads(archive.read("bundle.json"))
        report = archive.read("report.html").decode()
    rows = {name.rsplit(".", 1)[-1].rsplit("/", 1)[-1]: found for name, found in bundle["collections"].items()}
    logins = rows["login_events"]
    assert logins and all(r["outcome"] == "success" for r in logins) and logins[0]["ip"] == "127.0.0.1"
    assert [r["sku"] for r in rows["cloud_orders"]] == ["pc.box"]
    assert [r["domain"] for r in rows["website_filings"]] == [person.domain]
    assert [r["address"] for r in rows["offline_deliveries"]] == [person.delivery_address]
    assert len(rows["id_photo_files"]) == 2 and all(r["exists"] for r in rows["id_photo_files"])
    holders = {r["id"]: r["categories"] for r in bundle["recipients"]}   # LAN-SCOPE: which third party holds what
    assert set(holders) == {"contractor-example", "agent-example"}, holders
    assert all(holders.values())
    assert all(r["name"] in report for r in bundle["recipients"])


def _correct_address(walk: Walk, person: Person, user: User) -> None:
    page = walk.page
    page.goto(f"{walk.pair.charter_url}/center/{CONTROLLER}/requests")
    page.select_option("#ask-rectification select[name=category]", "account.address")
    page.fill("#ask-rectification input[name=value]", person.corrected)
    page.click("#ask-rectification button[type=submit]")
    page.wait_for_url("**/requests?sent=rectification")
    reload_until(page, "tr[data-kind=rectification][data-status^=completed]")
    walk.shot("correction-done")
    assert _user(walk.pair, person.email).address == person.corrected   # in Landups' own table
    walk.landups("/account/profile")
    assert page.input_value("#f-address") == person.corrected
    walk.shot("correction-in-landups")


def _cancel_account(walk: Walk, subject_id: str) -> DataRequest:
    page = walk.page
    page.goto(f"{walk.pair.charter_url}/center/{CONTROLLER}/requests")
    page.on("dialog", lambda dialog: dialog.accept())   # a "are you sure?" question, if the centre asks one
    page.click("#ask-cancellation button")
    page.wait_for_url("**/requests?sent=cancellation")
    deadline = time.monotonic() + 60
    while (done := _charter_request(walk.pair, subject_id, "cancellation")).status not in (
            "completed", "completed_with_held_items", "failed"):
        assert time.monotonic() < deadline, done.status
        time.sleep(0.25)
    page.reload()   # what the person sees: done, and what is kept, with the rule that keeps it
    row = page.locator("tr[data-kind=cancellation]")
    assert row.get_attribute("data-status") == "completed_with_held_items"
    assert row.locator(".held").count() > 0 and "cloud_orders" in row.text_content()
    walk.shot("cancellation-done")
    return done


def _assert_nothing_identifying_left(pair: Pair, person: Person, user: User) -> None:
    """Every row of every Landups table, read back: none carries anything this person gave; only the kept tables
    still have rows of theirs, and those hold nothing but what the retention rule keeps."""
    with unit_of_work(pair.landups.factory) as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(table)).mappings():
                text = json.dumps({k: str(v) for k, v in row.items()}, ensure_ascii=False)
                leaked = [token for token in person.identifying() if token in text]
                assert not leaked, f"{table.name} still holds {leaked}"
            if "user_id" in table.c and table.name not in KEPT_TABLES:
                left = session.execute(select(table).where(table.c.user_id == user.id)).all()
                assert not left, f"{table.name} keeps {len(left)} row(s) of the cancelled account"
        account = session.get(User, user.id)
        assert account is not None and account.name == "(erased)" and account.phone is None
        assert account.address is None and account.email != person.email and account.account_id != user.account_id
        orders = list(session.scalars(select(CloudOrder).where(CloudOrder.user_id == user.id)))
        assert [(o.sku, o.contact_person, o.contact_info) for o in orders] == [("pc.box", "(erased)", "(erased)")]
        assert session.get(CharterSubject, user.id) is None


def _assert_restricted(pair: Pair, subject_id: str, cancellation: DataRequest) -> None:
    """The kept rows are restricted: Charter holds the person restricted for the cancellation, reports the kept
    fields as held with their rule, and answers no to every use Landups asks about."""
    assert cancellation.status == "completed_with_held_items", cancellation.status
    with pair.charter_sessions() as session:
        subject = session.get(Subject, subject_id)
        assert subject is not None and subject.restricted_at is not None
        assert subject.restriction_reason == "account_cancelled"
        held = session.scalars(select(HeldItem).where(HeldItem.request_id == cancellation.id)).all()
    assert held and {h.collection.rsplit(".", 1)[-1] for h in held} <= KEPT_TABLES
    assert {h.rule for h in held} >= {"billing_records"}
    with pair.api() as api:
        state = api.get(f"/v1/subjects/{subject_id}/state")
    assert state.status_code == 200 and state.json()["is_restricted"] is True
    with Client(pair.charter_url, pair.secret_key) as client:
        for purpose in ("surveys", "recommendations", "optimisation"):
            assert client.decide(subject_id, purpose).allowed is False, purpose


def test_register_to_cancellation_through_the_privacy_centre(browser: Any, landups_db: str, tmp_path: Path) -> None:
    tag = "sqlite" if landups_db.startswith("sqlite") else "mariadb"
    person = Person()
    with DevMail(web_port=None) as mail, landups_with_charter(landups_db, tmp_path, smtp_port=mail.smtp_port) as pair:
        context = browser.new_context(locale="zh-HK", viewport={"width": 1200, "height": 900}, accept_downloads=True)
        walk = Walk(context.new_page(), pair, mail, tag)
        desk: Any = None
        try:
            control = _control_person(pair)
            user = _register_and_use_landups(walk, person, tmp_path)
            _all_delivered(pair, user.id)
            with unit_of_work(pair.landups.factory) as session:
                charter_row = session.get(CharterSubject, user.id)
                assert charter_row is not None
                subject_id = charter_row.subject_id
                photo_files = list(session.scalars(select(IdPhoto.stored_name).where(IdPhoto.user_id == user.id)))
            assert len(photo_files) == 2 and all(pair.landups.vault.path(n).is_file() for n in photo_files)

            desk = _staff_desk(walk, browser)
            _hand_over_and_invite(walk, desk, user, control)
            _withdraw_surveys_and_invite_again(walk, desk, user, control)
            _all_delivered(pair, user.id)   # the disclosures too, before the person asks what we hold

            _open_privacy_centre(walk)
            _access_and_export(walk, person, subject_id)
            _correct_address(walk, person, user)
            cancellation = _cancel_account(walk, subject_id)

            walk.landups("/login")   # the account is gone: its old email and password open nothing
            walk.page.fill("#f-email", person.email)
            walk.page.fill("#f-password", PASSWORD)
            walk.page.click("main button.primary")
            expect(walk.page.locator("p.field-error[data-field=email]")).to_have_count(1)
            walk.shot("login-refused-after-cancellation")
        finally:
            if desk is not None:
                desk.context.close()
            context.close()

        _assert_nothing_identifying_left(pair, person, user)
        _assert_restricted(pair, subject_id, cancellation)
        assert not any(pair.landups.vault.path(n).exists() for n in photo_files)   # both ID photo files
        with pair.charter_sessions() as session:
            verified = AuditLog(session).verify(CONTROLLER)
        assert verified.ok and verified.checked > 0, verified
