"""Lubpur wired to a live Charter (uvicorn on a loopback port) through the public SDK only: registration,
choices and guardian consent land in Charter's ledger, decisions and obligations come from Charter, reports are
delivered after commit and survive an outage, the banner tag is on the pages, each click on the privacy-centre
link mints a signed single-use link, and a cancellation approved in Charter closes the account's login (through
the signed login webhook, or by polling `account_closures`)."""

from __future__ import annotations

import dataclasses
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from charter.connectors.webhook import SIGNATURE_HEADER, sign
from charter.core.settings import Settings as CharterSettings
from charter.requests.models import AutomatedDecision
from charter.sdk import Client
from lubpur.closures import ClosureWatch
from lubpur.models import CharterReport, ConsentChoice, Product, WebSession
from lubpur.policy import load_policy
from lubpur.privacy import CharterLink, CharterPrivacy, Subject
from lubpur.reports import CharterDown, ReportDelivery
from lubpur.settings import POLICY_FILE, Settings
from lubpur.web.app import create_app
from tests.examples.lubpur.factories import count, csrf, post, register, unique_email, user_by_email
from tests.examples.lubpur.mailbox import Mailbox, html_of
from tests.examples.lubpur.test_subscriptions import _newsletter, _send_newsletter, _subscribe
from tests.factories import Tenant, example_policy_text, make_tenant
from tests.live import free_port, live_server

POLICY = load_policy(POLICY_FILE)
DATAMAP = POLICY_FILE.parent / "datamap.yaml"


WEBHOOK_KEY = "lubpur-login-webhook-test-key"


@pytest.fixture(scope="module")
def charter_url(settings: CharterSettings) -> Iterator[str]:
    from charter.web.app import create_app as create_charter  # noqa: PLC0415 - one per backend

    port = free_port()
    # Charter mints the centre's links with its own base URL: this server's.
    app = create_charter(settings.model_copy(update={"base_url": f"http://127.0.0.1:{port}"}))
    with live_server(app, port) as url:
        yield url


@pytest.fixture(scope="module")
def tenant(sessions: sessionmaker[Session], charter_url: str, lubpur_database_url: str) -> Tenant:
    # A controller per Lubpur database: two databases' account ids would clash in one controller.
    t = make_tenant(sessions)
    r = httpx.post(f"{charter_url}/v1/policies", content=example_policy_text(t.controller_id).encode(),
                   headers={**t.headers, "Content-Type": "application/yaml"})
    assert r.status_code in (200, 201), r.text
    return t


@pytest.fixture(scope="module")
def connected_settings(lubpur_settings: Settings, tenant: Tenant, charter_url: str) -> Settings:
    return dataclasses.replace(lubpur_settings, charter_url=charter_url, charter_secret_key=tenant.secret,
                               charter_publishable_key=tenant.publishable, charter_controller=tenant.controller_id,
                               charter_login_webhook_key=WEBHOOK_KEY)


@pytest.fixture(scope="module")
def connected_app(connected_settings: Settings, lubpur_sessions: sessionmaker[Session]) -> Iterator[FastAPI]:
    app = create_app(connected_settings)
    with TestClient(app):  # runs the lifespan: the delivery loop
        yield app


@pytest.fixture
def browser_client(connected_app: FastAPI) -> Iterator[TestClient]:
    c = TestClient(connected_app, base_url="http://testserver", follow_redirects=True)
    yield c
    c.close()


@pytest.fixture
def sdk(charter_url: str, tenant: Tenant) -> Iterator[Client]:
    with Client(charter_url, tenant.secret) as c:
        yield c


def test_registration_and_choices_land_in_charters_ledger(browser_client: TestClient, db: Session,
                                                          sdk: Client) -> None:
    form = register(browser_client, personalisation="yes")
    user = user_by_email(db, form["email"])
    assert user.charter_subject_id
    assert sdk.register(email=form["email"]).subject_id == user.charter_subject_id
    history = sdk.consents(user.charter_subject_id, history=True)["history"]
    # LUB-ACCEPT: the ticked "I have read and accept" is in the ledger too, for the version shown.
    assert sorted((e["purpose"], e["action"], e["policy_version"]) for e in history) == [
        ("personalisation", "grant", POLICY.version), ("policy", "accept", POLICY.version)]
    assert not sdk.needs_acceptance(user.charter_subject_id)
    assert count(db, ConsentChoice, ConsentChoice.user_id == user.id, ConsentChoice.reported_at.is_(None)) == 0

    page = browser_client.get("/me/privacy")
    assert page.status_code == 200
    post(browser_client, "/me/privacy", {"purpose": "personalisation", "choice": "no"}, csrf_from="/me/privacy")
    decision = sdk.decide(user.charter_subject_id, "personalisation")
    assert (decision.allowed, decision.reasons) == (False, ("consent_withdrawn",))
    history = sdk.consents(user.charter_subject_id, history=True)["history"]
    assert [e["action"] for e in history if e["purpose"] == "personalisation"] == ["grant", "withdraw"]


def test_recommendations_are_charters_decision_and_recorded_as_automated(browser_client: TestClient, db: Session,
                                                                         sessions: sessionmaker[Session],
                                                                         tenant: Tenant) -> None:
    form = register(browser_client, personalisation="yes")
    product = db.scalars(select(Product).order_by(Product.id).limit(1)).one()
    browser_client.post(f"/products/{product.id}/favourite", data={"csrf": csrf(browser_client, f"/products/"
                                                                                             f"{product.id}")})
    browser_client.get("/")
    user = user_by_email(db, form["email"])
    with sessions() as charter_db:
        made = charter_db.scalars(select(AutomatedDecision).where(
            AutomatedDecision.controller_id == tenant.controller_id,
            AutomatedDecision.subject_id == user.charter_subject_id)).all()
    assert made and made[0].kind == "recommendation"


def test_the_banner_is_charters(browser_client: TestClient, tenant: Tenant, charter_url: str) -> None:
    home = browser_client.get("/").text
    tag = re.search(r'<script src="([^"]+)" data-key="([^"]+)"', home)
    assert tag and tag.group(1) == f"{charter_url}/static/charter-consent.js" and tag.group(2) == tenant.publishable


def _enter(link: str) -> str:
    """Follow a privacy-centre link in a browser of its own; where it ends up. A page whose one form asks the
    person to press a button before signing in is answered by pressing it."""
    with httpx.Client(follow_redirects=True, timeout=10) as person:
        page = person.get(link)
        form = re.search(r'<main.*?<form[^>]*method="post"[^>]*action="([^"]+)"(.*?)</form>', page.text, re.S)
        if "/enter" in str(page.url) and form:
            fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form.group(2)))
            page = person.post(httpx.URL(str(page.url)).join(form.group(1)), data=fields)
        return str(page.url)


def test_each_click_on_the_privacy_centre_link_mints_a_single_use_link(browser_client: TestClient, tenant: Tenant,
                                                                      charter_url: str) -> None:
    assert browser_client.get("/privacy-centre", follow_redirects=False).headers["location"] == \
        "/login?next=/privacy-centre"
    form = register(browser_client)
    links = []
    for _ in range(2):
        click = browser_client.get("/privacy-centre", follow_redirects=False)
        assert click.status_code == 303 and click.headers["cache-control"] == "no-store"
        links.append(click.headers["location"])
    pattern = rf"{re.escape(charter_url)}/center/{tenant.controller_id}/enter\?token=[A-Za-z0-9_-]{{20,100}}&lang=zh-CN"
    assert all(re.fullmatch(pattern, link) for link in links) and links[0] != links[1]
    assert not any(form["email"] in link or form["phone"] in link for link in links)
    assert _enter(links[0]) == f"{charter_url}/center/{tenant.controller_id}/data"
    assert "/sign-in" in _enter(links[0])  # used once already


def test_without_charter_the_privacy_centre_link_is_its_sign_in_page(connected_settings: Settings,
                                                                     tmp_path: Path) -> None:
    down = dataclasses.replace(connected_settings, database_url=f"sqlite:///{tmp_path / 'lubpur.db'}",
                               charter_url=f"http://127.0.0.1:{free_port()}")
    with TestClient(create_app(down), base_url="http://testserver", follow_redirects=True) as offline:
        register(offline)
        click = offline.get("/privacy-centre", follow_redirects=False)
    assert click.status_code == 303
    assert click.headers["location"] == f"{down.charter_url}/center/{down.charter_controller}?lang=zh-CN"


def test_a_refusal_of_tracking_in_charter_takes_the_pixel_out_of_the_next_newsletter(
        browser_client: TestClient, db: Session, mailbox: Mailbox, sdk: Client) -> None:
    address = unique_email("reader")
    _subscribe(browser_client, mailbox, address, tracking=True)
    _send_newsletter(browser_client, db, "十月特惠 C1")
    assert "/t/o/" in html_of(_newsletter(mailbox, address, "十月特惠 C1"))
    subject_id = sdk.register(email=address).subject_id
    marketing = sdk.decide(subject_id, "marketing_email", channel="email")
    assert marketing.obligations == ("subject_prefix_ad", "unsubscribe_link")
    # As the banner or the privacy centre would record it: straight into Charter's ledger.
    sdk.withdraw(subject_id, "email_tracking", channel="web", method="settings")
    _send_newsletter(browser_client, db, "十月特惠 C2")
    html = html_of(_newsletter(mailbox, address, "十月特惠 C2"))
    assert "/t/o/" not in html and "/t/c/" not in html


def test_suspension_reaches_charter(browser_client: TestClient, db: Session, sdk: Client) -> None:
    form = register(browser_client)
    post(browser_client, "/me/security/report", {"password": form["password"]}, csrf_from="/me/security")
    user = user_by_email(db, form["email"])
    assert user.status == "suspended"
    assert "account_suspended" in sdk.decide(user.charter_subject_id or "", "personalisation").reasons


def test_reports_wait_while_charter_is_down_and_none_is_lost(
        connected_settings: Settings, sessions: sessionmaker[Session], charter_url: str, tmp_path: Path) -> None:
    # A Lubpur database and a controller of its own: the module's connected app would deliver from the shared one.
    own = make_tenant(sessions)
    httpx.post(f"{charter_url}/v1/policies", content=example_policy_text(own.controller_id).encode(),
               headers={**own.headers, "Content-Type": "application/yaml"}).raise_for_status()
    up = dataclasses.replace(connected_settings, database_url=f"sqlite:///{tmp_path / 'lubpur.db'}",
                             charter_secret_key=own.secret, charter_publishable_key=own.publishable,
                             charter_controller=own.controller_id)
    down = dataclasses.replace(up, charter_url=f"http://127.0.0.1:{free_port()}")
    app = create_app(down)
    with TestClient(app, base_url="http://testserver", follow_redirects=True) as offline, \
            app.state.sessions() as db:
        form = register(offline, personalisation="yes")
        user = user_by_email(db, form["email"])
        assert user.charter_subject_id is None
        assert count(db, ConsentChoice, ConsentChoice.user_id == user.id, ConsentChoice.reported_at.is_(None)) == 1
        privacy = CharterPrivacy(db, down, POLICY, app.state.charter)
        assert privacy.decide(Subject(user_id=user.id, email=user.email), "personalisation").reasons == (
            "charter_unavailable",)
        with pytest.raises(CharterDown):
            app.state.delivery.deliver_pending()
        ReportDelivery(app.state.sessions, CharterLink.from_settings(up, POLICY)).deliver_pending()
        user = user_by_email(db, form["email"])
        assert user.charter_subject_id
        assert count(db, ConsentChoice, ConsentChoice.user_id == user.id, ConsentChoice.reported_at.is_(None)) == 0
        assert count(db, CharterReport, CharterReport.user_id == user.id, CharterReport.delivered_at.is_(None)) == 0
        subject_id = user.charter_subject_id
    with Client(charter_url, own.secret) as sdk:
        assert sdk.decide(subject_id, "personalisation").allowed


# --- cancellation: Charter closes the login ---------------------------------------------------------------------


def _signed(body: dict[str, Any], key: str = WEBHOOK_KEY, at: float | None = None) -> dict[str, Any]:
    """A call as Charter's `disable_login` task makes it: the JSON body and its `Charter-Signature`."""
    raw = json.dumps(body, separators=(",", ":")).encode()
    stamp = int(time.time() if at is None else at)
    return {"content": raw, "headers": {"Content-Type": "application/json",
                                        SIGNATURE_HEADER: sign(key.encode(), stamp, raw)}}


def _cancelled(subject_id: str) -> dict[str, Any]:
    return {"event": "account.cancelled", "subject_id": subject_id, "request_id": "r-test"}


def test_the_login_webhook_closes_the_login_and_refuses_what_charter_did_not_sign(
        browser_client: TestClient, connected_app: FastAPI, db: Session) -> None:
    form = register(browser_client)
    user = user_by_email(db, form["email"])
    assert user.charter_subject_id
    call = _cancelled(user.charter_subject_id)
    with TestClient(connected_app, base_url="http://testserver") as charter:
        raw = json.dumps(call).encode()
        refused = [
            charter.post("/charter/account-closed", content=raw, headers={"Content-Type": "application/json"}),
            charter.post("/charter/account-closed", **_signed(call, key="another key")),
            charter.post("/charter/account-closed", **_signed(call, at=time.time() - 600)),
        ]
        assert [r.status_code for r in refused] == [401, 401, 401]
        assert refused[1].json()["error"]["code"] == "bad_signature" and refused[1].json()["error"]["fix"]
        wrong = charter.post("/charter/account-closed", **_signed({**call, "event": "account.created"}))
        assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "bad_event"
        assert user_by_email(db, form["email"]).status == "active"
        assert browser_client.get("/me").url.path == "/me"

        closed = charter.post("/charter/account-closed", **_signed(call))
        assert closed.status_code == 200 and closed.json() == {"closed": True}
        again = charter.post("/charter/account-closed", **_signed(call))
        assert again.json() == {"closed": True}  # Charter may retry: closing twice does no harm
        nobody = charter.post("/charter/account-closed", **_signed(_cancelled("0" * 32)))
        assert nobody.status_code == 200 and nobody.json() == {"closed": False}
    assert user_by_email(db, form["email"]).status == "cancelled"
    assert count(db, WebSession, WebSession.user_id == user.id) == 0
    assert browser_client.get("/me").url.path == "/login"
    attempt = browser_client.post("/login", data={"csrf": csrf(browser_client, "/login"), "login": form["email"],
                                                  "password": form["password"]})
    assert attempt.status_code == 400 and "该账户已注销" in attempt.text


def test_the_webhook_is_refused_when_lubpur_has_no_key_for_it(lubpur_app: FastAPI, web: TestClient) -> None:
    answer = web.post("/charter/account-closed", **_signed(_cancelled("0" * 32)))
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "webhook_not_configured"


def test_a_cancellation_approved_in_charter_closes_the_login_when_lubpur_polls(
        browser_client: TestClient, db: Session, lubpur_sessions: sessionmaker[Session], sdk: Client, tenant: Tenant,
        charter_url: str, lubpur_database_url: str) -> None:
    form = register(browser_client)
    user = user_by_email(db, form["email"])
    headers = {"Authorization": f"Bearer {tenant.secret}"}
    datamap = DATAMAP.read_text(encoding="utf-8").replace("controller: lubpur", f"controller: {tenant.controller_id}")
    if lubpur_database_url.startswith("postgresql"):
        datamap = datamap.replace("kind: sqlite", "kind: postgresql")
    published = httpx.post(f"{charter_url}/v1/datamaps", content=datamap.encode(),
                           headers={**headers, "Content-Type": "application/yaml"})
    assert published.status_code in (200, 201), published.text
    key = httpx.post(f"{charter_url}/v1/admin/request-settings/assertion-key", headers=headers).json()
    # The person asks; the host vouches for its logged-in user. (This Charter runs no request worker: the request
    # stays executing, its tasks waiting, which is exactly when the host must already refuse the login.)
    asked = sdk.submit_request("cancellation", controller_id=tenant.controller_id,
                               assertion_key=key["assertion_key"], identity_kind="account_id",
                               identity_value=str(user.id))
    assert asked.status == "executing"
    watch = ClosureWatch(lubpur_sessions, sdk)
    assert watch.poll() >= 1 and watch.since
    assert user_by_email(db, form["email"]).status == "cancelled"
    assert browser_client.get("/me").url.path == "/login"
    assert watch.poll() == 0  # from where it left off: nothing new
