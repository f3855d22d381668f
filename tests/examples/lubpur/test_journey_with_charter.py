"""The issue's "done when": a newcomer's whole journey in Chromium, on Lubpur and Charter's privacy centre, once
with both databases on SQLite and once with both on PostgreSQL.

Three real servers on loopback, wired only as a customer would wire them: Charter (request worker and outbox
sender running, Lubpur's database reached through the published data map), Lubpur (the public SDK, the login
webhook) and DevMail (the SMTP server both send through, with its web inbox where the newcomer reads their
mail). Charter is seeded with its own services, as an operator would with the `charter` CLI.

register → browse and search → favourite → download a data sheet → purchase request and consultation →
subscribe (confirmed from the inbox) → personal centre → privacy centre, signed in by Lubpur's link → download
the copy of their data (footprints, favourites, purchase request, consultation, subscription, consent history)
→ refuse email tracking there, and the next newsletter has no pixel → cancel the account → it cannot log in,
Lubpur's tables hold nothing that identifies them but the login records the security rule keeps (restricted),
and Charter's audit chain verifies. Screenshots: test-artifacts/journey-<backend>-<step>.png.
"""

from __future__ import annotations

import json
import re
import secrets
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from charter.accounts.services import ApiKeyService, ControllerService, OriginService
from charter.audit.services import AuditLog
from charter.core.crypto import Keyring
from charter.core.db import make_engine as charter_engine
from charter.core.settings import Settings as CharterSettings
from charter.datamap.services import DataMapStore
from charter.devmail import DevMail, ReceivedMail
from charter.migrations import upgrade
from charter.policy.services import PolicyStore
from charter.requests.models import DataRequest, HeldItem, RequestTask
from charter.requests.staff import StaffDesk
from charter.subjects.services import SubjectDirectory
from charter.web.app import create_app as create_charter
from lubpur.db import Base, make_engine, session_factory
from lubpur.models import LoginRecord, Staff, User
from lubpur.schema import create_schema
from lubpur.security import hash_password
from lubpur.settings import POLICY_FILE, Settings
from lubpur.web.app import create_app as create_lubpur
from tests.examples.lubpur import steps
from tests.live import ARTIFACTS, free_port, live_server, reload_until
from tests.services import fresh_postgres_database

pytestmark = pytest.mark.browser

CONTROLLER = "lubpur"
DATAMAP = POLICY_FILE.parent / "datamap.yaml"
STAFF_EMAIL = "service@lubpur.test"
STAFF_PASSWORD = "Staff-pass-2023"


@dataclass(frozen=True)
class Stage:
    backend: str
    charter_url: str
    lubpur_url: str
    mail: DevMail
    charter_sessions: sessionmaker[Session]
    keyring: Keyring
    lubpur_engine: Engine

    @property
    def inbox_url(self) -> str:
        assert self.mail.inbox_url is not None
        return self.mail.inbox_url


@contextmanager
def _databases(backend: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Charter's and Lubpur's databases, both new, both on `backend`."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'charter.db'}", f"sqlite:///{tmp_path / 'lubpur.db'}"
        return
    with fresh_postgres_database() as charter_db, fresh_postgres_database() as lubpur_db:
        yield charter_db, lubpur_db


def _datamap_for(lubpur_db: str) -> str:
    """Lubpur's data map as published, its SQL dataset's kind matching where Lubpur keeps its data."""
    doc: dict[str, Any] = yaml.safe_load(DATAMAP.read_text(encoding="utf-8"))
    kind = "postgresql" if lubpur_db.startswith("postgresql") else "sqlite"
    for system in doc["systems"]:
        for dataset in system["datasets"]:
            dataset["kind"] = kind
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


def _seed_charter(sessions: sessionmaker[Session], keyring: Keyring, lubpur_db: str,
                  lubpur_url: str) -> dict[str, str]:
    """What an operator does with the `charter` CLI: controller, keys, origin, policy, data map, login webhook."""
    with sessions() as session, session.begin():
        ControllerService(session).create(CONTROLLER, "上海超润 Lubpur", actor="test")
        keys = ApiKeyService(session)
        secret = keys.create(CONTROLLER, "lubpur server", "secret", actor="test").token
        publishable = keys.create(CONTROLLER, "lubpur banner", "publishable", actor="test").token
        OriginService(session).add(CONTROLLER, lubpur_url, actor="test")
        PolicyStore(session).publish(CONTROLLER, POLICY_FILE.read_text(encoding="utf-8"), source="policy.yaml",
                                     actor="test")
        DataMapStore(session).publish(CONTROLLER, _datamap_for(lubpur_db), source="datamap.yaml", actor="test")
        webhook = StaffDesk(session, keyring).set_login_webhook(CONTROLLER, f"{lubpur_url}/charter/account-closed",
                                                                actor="test")
        assert webhook is not None
    return {"secret": secret, "publishable": publishable, "webhook": webhook.value}


def _seed_lubpur_staff(engine: Engine) -> None:
    create_schema(engine)
    with session_factory(engine)() as session, session.begin():
        session.add(Staff(email=STAFF_EMAIL, name="客服小润", password_hash=hash_password(STAFF_PASSWORD)))


@pytest.fixture(params=["sqlite", "postgresql"])
def stage(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stage]:
    backend: str = request.param
    keyring = Keyring.generate()
    charter_port, lubpur_port = free_port(), free_port()
    charter_url, lubpur_url = f"http://127.0.0.1:{charter_port}", f"http://127.0.0.1:{lubpur_port}"
    with _databases(backend, tmp_path) as (charter_db, lubpur_db), DevMail() as mail:
        upgrade(charter_db)
        engine = charter_engine(charter_db)
        sessions = sessionmaker(engine, expire_on_commit=False)
        keys = _seed_charter(sessions, keyring, lubpur_db, lubpur_url)
        # The data map's connection secrets, as `charter serve` reads them from its environment.
        monkeypatch.setenv("CHARTER_SECRET_LUBPUR_DB", lubpur_db)
        monkeypatch.setenv("CHARTER_SECRET_LUBPUR_HASH_KEY", secrets.token_hex(32))
        charter_app = create_charter(CharterSettings(
            database_url=charter_db, keyring=keyring.to_json(), keyring_file=tmp_path / "unused.json",
            base_url=charter_url, smtp_port=mail.smtp_port, outbox_worker=True, outbox_interval=0.2,
            scheduler=False, request_worker=True, sweep_interval=1.0))
        lubpur_engine = make_engine(lubpur_db)
        _seed_lubpur_staff(lubpur_engine)
        lubpur_app = create_lubpur(Settings(
            database_url=lubpur_db, base_url=lubpur_url, smtp_host="127.0.0.1", smtp_port=mail.smtp_port,
            secret_key=secrets.token_hex(16), charter_url=charter_url, charter_secret_key=keys["secret"],
            charter_publishable_key=keys["publishable"], charter_controller=CONTROLLER,
            charter_login_webhook_key=keys["webhook"]))
        try:
            with live_server(charter_app, charter_port), live_server(lubpur_app, lubpur_port):
                yield Stage(backend, charter_url, lubpur_url, mail, sessions, keyring, lubpur_engine)
        finally:
            lubpur_engine.dispose()
            charter_app.state.engine.dispose()
            engine.dispose()


# --- helpers ------------------------------------------------------------------------------------------------


def _shot(page: Any, stage: Stage, step: str) -> None:
    steps.shot(page, f"journey-{stage.backend}-{step}")


def _refuse_the_banner(page: Any) -> None:
    """Charter's cookie banner covers the page on a first visit: the newcomer refuses everything optional."""
    page.wait_for_selector(".charter-consent button[data-action=reject]", timeout=10_000)
    page.click(".charter-consent button[data-action=reject]")
    page.wait_for_selector(".charter-consent", state="detached", timeout=10_000)


def _mail_to(stage: Stage, address: str, subject_part: str, timeout: float = 15) -> ReceivedMail:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [m for m in stage.mail.messages if address in m.rcpt_tos and subject_part in m.subject]
        if found:
            return found[-1]
        time.sleep(0.1)
    raise AssertionError(f"no mail to {address} with {subject_part!r} in its subject")


def _read_in_inbox(page: Any, stage: Stage, mail: ReceivedMail, step: str) -> str:
    """Open the message in DevMail's web inbox, as the newcomer would, and return its plain text."""
    page.goto(f"{stage.inbox_url}/?lang=en")
    page.click(f"#messages a[href^='/messages/{mail.id}?']")
    text = page.text_content("#text") or ""
    _shot(page, stage, step)
    return text


def _send_newsletter(staff: Any, stage: Stage, subject: str) -> None:
    """Customer service sends an issue from Lubpur's staff pages."""
    staff.goto(stage.lubpur_url + "/staff/newsletters")
    if "/staff/login" in staff.url:
        staff.fill("form[action='/staff/login'] input[name=email]", STAFF_EMAIL)
        staff.fill("form[action='/staff/login'] input[name=password]", STAFF_PASSWORD)
        staff.click("form[action='/staff/login'] button[type=submit]")
        staff.goto(stage.lubpur_url + "/staff/newsletters")
    staff.fill("input[name=subject_zh]", subject + " 中文")
    staff.fill("input[name=subject_en]", subject)
    staff.fill("textarea[name=body_zh]", "新品上市:HM 46 抗磨液压油。")
    staff.fill("textarea[name=body_en]", "New: HM 46 anti-wear hydraulic oil.")
    staff.fill("textarea[name=links]", "/products?category=hydraulic")
    staff.click("form[action='/staff/newsletters'] button[type=submit]")
    staff.wait_for_url(re.compile(re.escape("?ok=newsletter_sent") + "$"))
    _shot(staff, stage, f"staff-{subject.split(maxsplit=1)[0].lower()}")


def _enter_the_privacy_centre(page: Any, stage: Stage) -> None:
    """Lubpur's link mints a signed single-use link per click. Charter may open the session at once or show a
    page whose one button signs in; either way the person ends up in the centre, signed in, with no code."""
    page.click("#privacy-centre-link")
    page.wait_for_url(f"{stage.charter_url}/center/{CONTROLLER}/**")
    assert "/sign-in" not in page.url, page.url
    confirm = page.locator("main form[method=post] button[type=submit]")
    if "/enter" in page.url and confirm.count():
        confirm.first.click()
    page.wait_for_url(re.compile(rf".*/center/{CONTROLLER}/(data|reconsent).*"))
    expect(page.locator(".account .who")).to_have_count(1)  # "Signed in"


def _avatar(folder: Path) -> Path:
    path = folder / "avatar.png"
    Image.new("RGB", (64, 64), (14, 93, 140)).save(path)
    return path


def _charter_subject_id(stage: Stage, email: str) -> str:
    """Charter's id for the person, as Lubpur learnt it when the registration was delivered."""
    for _ in range(100):
        with session_factory(stage.lubpur_engine)() as session:
            found = session.scalars(select(User.charter_subject_id).where(User.email == email)).first()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError("the registration never reached Charter")


# --- the journey --------------------------------------------------------------------------------------------


def test_a_newcomers_whole_journey_through_lubpur_and_charter(page: Any, browser: Any, stage: Stage,
                                                              tmp_path: Path) -> None:
    who = steps.Newcomer.fresh("newcomer")
    profile, purchase, consultation = steps.Profile(), steps.Purchase(), steps.Consultation()
    base = stage.lubpur_url

    # Lubpur's home page with Charter's banner over it; the newcomer refuses every optional cookie
    page.goto(base + "/")
    _shot(page, stage, "01-home-banner")
    _refuse_the_banner(page)

    steps.register(page, base, who)
    _shot(page, stage, "02-registered")
    subject_id = _charter_subject_id(stage, who.email)
    product_path = steps.search_and_favourite(page, base)
    _shot(page, stage, "03-favourite")
    steps.download_datasheet(page)
    steps.purchase_request(page, base, product_path, purchase)
    steps.consult(page, consultation)
    _shot(page, stage, "04-consultation")

    # subscribe, and confirm from the mail read in the web inbox (tracking allowed, for now)
    steps.ask_to_subscribe(page, who.email)
    confirm = _read_in_inbox(page, stage, _mail_to(stage, who.email, "confirm your Lubpur subscription"),
                             "05-inbox-confirm")
    link = re.search(r"https?://\S+/subscribe/confirm\?token=\S+", confirm)
    assert link and link.group(0).startswith(base)
    steps.confirm_subscription(page, link.group(0), allow_tracking=True)

    # another day: log out and back in (the login leaves a login record, which the security rule keeps)
    steps.log_out(page)
    steps.log_in(page, base, who.email, who.password)
    expect(page.locator("#nav-me")).to_have_count(1)

    # the first newsletter carries the open pixel: the person allowed tracking
    staff = browser.new_context(locale="en-US").new_page()
    try:
        staff.goto(base + "/staff/login")
        _refuse_the_banner(staff)
        _send_newsletter(staff, stage, "October offers")
        tracked = _mail_to(stage, who.email, "October offers")
        assert tracked.subject.startswith("[AD] ")
        assert "/t/o/" in (tracked.html or "")

        # the personal centre: account information and an avatar; then the privacy centre through Lubpur's link
        steps.complete_profile(page, base, profile, _avatar(tmp_path))
        _shot(page, stage, "06-personal-centre")
        _enter_the_privacy_centre(page, stage)
        _shot(page, stage, "07-privacy-centre")

        # ask for a copy and download it through the browser
        page.click("nav.menu >> text=Your requests")
        page.click("#ask-access button")
        page.wait_for_url("**/requests?sent=access")
        reload_until(page, "text=Download my data")
        _shot(page, stage, "08-export-ready")
        with page.expect_download() as download:
            page.click("text=Download my data")
        saved = ARTIFACTS / f"journey-{stage.backend}-my-data.zip"
        download.value.save_as(str(saved))
        _check_the_export(saved, who, profile, purchase, consultation, subject_id)

        # refuse email tracking in the centre: the next newsletter has no pixel
        page.click("nav.menu >> text=Your consents")
        assert "Given" in (page.text_content("#purpose-email_tracking .state") or "")
        page.click("#purpose-email_tracking button[type=submit]")
        assert "Withdrawn" in (page.text_content("#purpose-email_tracking .state") or "")
        _shot(page, stage, "09-tracking-refused")
        _send_newsletter(staff, stage, "November offers")
        untracked = _mail_to(stage, who.email, "November offers")
        assert untracked.subject.startswith("[AD] ")
        html = untracked.html or ""
        assert "/t/o/" not in html and "/t/c/" not in html and "<img" not in html
        assert f"{base}/products?category=hydraulic" in html
        _read_in_inbox(page, stage, untracked, "10-inbox-no-pixel")
    finally:
        staff.context.close()

    # cancel the account through the centre's request
    page.goto(f"{stage.charter_url}/center/{CONTROLLER}/requests")
    page.click("#ask-cancellation button")
    page.wait_for_url("**/requests?sent=cancellation")
    reload_until(page, "tr[data-kind=cancellation][data-status^=completed]")
    held = page.text_content("tr[data-kind=cancellation]") or ""
    assert "login_records" in held
    _shot(page, stage, "11-cancelled")

    # the account can no longer log in on Lubpur, by email or by phone. Its session ended, and the banner asks
    # again: this browser's choices were linked to the account at login, and were erased with it.
    page.goto(base + "/me")
    assert "/login" in page.url
    _refuse_the_banner(page)
    for login in (who.email, who.phone):
        steps.log_in(page, base, login, who.password)
        expect("/login" in page.url and page.locator("#form-error")).to_have_count(1)
    _shot(page, stage, "12-login-refused")

    _check_lubpur_holds_nothing_identifying(stage, who, profile, purchase, consultation)
    _check_charter_side(stage, subject_id)


# --- what the journey leaves behind --------------------------------------------------------------------------


def _check_the_export(saved: Path, who: steps.Newcomer, profile: steps.Profile, purchase: steps.Purchase,
                      consultation: steps.Consultation, subject_id: str) -> None:
    with zipfile.ZipFile(saved) as archive:
        bundle = json.loads(archive.read("bundle.json"))
        assert "report.html" in archive.namelist()
    collections = {key.rsplit(".", 1)[-1]: rows for key, rows in bundle["collections"].items()}
    assert len(collections["footprints"]) >= 1
    assert len(collections["favourites"]) == 1
    assert len(collections["downloads"]) == 1
    [request] = collections["purchase_requests"]
    assert request["contact_name"] == purchase.contact_name and request["delivery_city"] == purchase.city
    [conversation] = collections["consultations"]
    assert conversation["subject"] == consultation.subject
    assert any(m["body"] == consultation.body for m in collections["consultation_messages"])
    [subscription] = collections["subscriptions"]
    assert subscription["email"] == who.email and subscription["confirmed_at"]
    [account] = collections["users"]
    assert account["email"] == who.email and account["charter_subject_id"] == subject_id
    assert (account["wechat"], account["position"]) == (profile.wechat, profile.position) and account["avatar"]
    history = {(e["purpose"], e["action"], e["policy_version"]) for e in bundle["consent_history"]}
    version = yaml.safe_load(POLICY_FILE.read_text(encoding="utf-8"))["version"]
    assert {("personalisation", "grant", version), ("marketing_email", "grant", version),
            ("email_tracking", "grant", version)} <= history
    assert {e["method"] for e in bundle["consent_history"] if e["purpose"] == "marketing_email"} == {
        "double_opt_in"}


def _check_lubpur_holds_nothing_identifying(stage: Stage, who: steps.Newcomer, profile: steps.Profile,
                                            purchase: steps.Purchase, consultation: steps.Consultation) -> None:
    """Every table, every row: none of what identified the person is left. Only `login_records` still point at
    the account (ip, browser, time: the six months the security rule keeps), and the account row is anonymised."""
    needles = [who.email, who.phone, who.phone.removeprefix("+86"), who.name, who.company, profile.wechat,
               profile.qq, profile.address, profile.company_address, profile.position, purchase.contact_name,
               purchase.contact_phone, consultation.subject, consultation.body]
    with session_factory(stage.lubpur_engine)() as session:
        account = session.scalars(select(User).where(User.name == "已注销 cancelled")).one()
        pointing = {}
        for table in Base.metadata.sorted_tables:
            rows = session.execute(select(table)).mappings().all()
            for row in rows:
                text = " ".join(str(v) for v in row.values())
                left = [n for n in needles if n in text]
                assert not left, f"{table.name} still holds {left}"
            if "user_id" in table.c:
                count = sum(1 for row in rows if row["user_id"] == account.id)
                if count:
                    pointing[table.name] = count
        assert set(pointing) == {"login_records"}, pointing
        assert account.password_hash == "erased" and account.status == "cancelled"
        assert account.charter_subject_id is None and account.birth_date is None and account.avatar is None
        assert (account.company, account.address, account.wechat, account.qq) == ("", "", "", "")
        kept = session.scalars(select(LoginRecord).where(LoginRecord.user_id == account.id)).all()
        assert kept and all(r.ip and r.user_agent for r in kept)


def _check_charter_side(stage: Stage, subject_id: str) -> None:
    """Lubpur was told to stop the login before anything was erased; what was kept is restricted; the audit
    chain verifies."""
    with stage.charter_sessions() as session:
        request = session.scalars(select(DataRequest).where(DataRequest.controller_id == CONTROLLER,
                                                            DataRequest.kind == "cancellation")).one()
        assert request.subject_id == subject_id and request.status == "completed_with_held_items"
        tasks = session.scalars(select(RequestTask).where(RequestTask.request_id == request.id)
                                .order_by(RequestTask.position)).all()
        assert tasks[0].operation == "disable_login" and tasks[0].record == {"webhook": True, "status": 200}
        held = {(h.collection.rsplit(".", 1)[-1], h.field, h.rule) for h in session.scalars(
            select(HeldItem).where(HeldItem.request_id == request.id))}
        assert {("login_records", "ip", "security_logs"), ("login_records", "user_agent", "security_logs")} <= held
        assert SubjectDirectory(session, stage.keyring).flags(CONTROLLER, subject_id).is_restricted
        verification = AuditLog(session).verify(CONTROLLER)
        assert verification.ok, verification.reason
        assert verification.checked > 50
