"""Landups wired to a real Charter (its public SDK, its data map, Landups' signed webhook), on SQLite and on
MariaDB: consent at registration, decisions, disclosures, linked accounts, and the requests of issue 7 — access
(answered within the PDPO deadline), correction, account cancellation — with nothing identifying left after."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from charter.connectors.webhook import sign
from landups.db import unit_of_work
from landups.models import (
    CharterCall,
    CharterSubject,
    CloudOrder,
    IdPhoto,
    LoginEvent,
    OfflineDelivery,
    SurveyInvitation,
    User,
)
from landups.staffdesk import StaffService
from tests.examples.landups.factories import PASSWORD, photo_bytes, real_name_form, unique_email
from tests.examples.landups.live_charter import Pair, landups_with_charter
from tests.services import fresh_mariadb_database

SOON = (dt.date.today() + dt.timedelta(days=10)).isoformat()
PDPO_DAYS = 40


def _post(web: httpx.Client, path: str, data: dict[str, str], *, form_page: str | None = None,
          files: dict[str, Any] | None = None) -> httpx.Response:
    page = web.get(form_page or path)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, f"no CSRF token on {form_page or path}"
    return web.post(path, data={**data, "csrf_token": token.group(1)}, files=files)


def _user(pair: Pair, email: str) -> User:
    with unit_of_work(pair.landups.factory) as session:
        return session.scalars(select(User).where(User.email == email)).one()


def _subject_id(pair: Pair, user: User) -> str:
    with unit_of_work(pair.landups.factory) as session:
        row = session.get(CharterSubject, user.id)
        stuck = [(c.id, c.kind, c.last_error) for c in session.scalars(
            select(CharterCall).where(CharterCall.delivered_at.is_(None), CharterCall.refused_at.is_(None)))][:3]
        assert row is not None, f"the sign-up report was not delivered: {stuck}"
        return row.subject_id


def _staff(pair: Pair) -> httpx.Client:
    email = f"staff-{uuid.uuid4().hex[:8]}@landups.example"
    with unit_of_work(pair.landups.factory) as session:
        StaffService(session).create(email, "Support Agent", "staff password 123")
    desk = httpx.Client(base_url=pair.landups_url, follow_redirects=False, timeout=30)
    assert _post(desk, "/staff/login", {"email": email, "password": "staff password 123"}).status_code == 303
    return desk


def _request(pair: Pair, kind: str, email: str, **params: Any) -> tuple[str, str, dict[str, Any]]:
    """Submit a request as the person (by email), verify with the code Charter sent, wait for it to finish."""
    with pair.api() as api:
        submitted = api.post("/v1/requests", json={"kind": kind, "identity": {"kind": "email", "value": email},
                                                   "language": "en", "params": params or None})
        assert submitted.status_code == 202, submitted.text
        request_id = submitted.json()["request_id"]
        verified = api.post(f"/v1/requests/{request_id}/verify", json={"code": pair.last_code()})
        assert verified.status_code == 200, verified.text
        token = verified.json()["token"]
    return request_id, token, pair.wait_request(request_id, token)


def _register_and_use(pair: Pair, web: httpx.Client, email: str) -> User:
    data = {"email": email, "password": PASSWORD, "password_again": PASSWORD, "name": "Chan Tai Man",
            "phone": "9123 4567", "account_type": "personal", "language": "en", "accept_policy": "yes",
            "consent_surveys": "yes"}
    assert _post(web, "/register", data).status_code == 303
    assert _post(web, "/real-name", real_name_form(),
                 files={"id_photo": ("id.jpg", photo_bytes(), "image/jpeg")}).status_code == 303
    assert _post(web, "/market/order", {"sku": "dm.100", "term_months": "1", "quantity": "1",
                                        "contact_person": "Ms Lee", "contact_info": "lee@example.com"},
                 form_page="/market").status_code == 303
    user = _user(pair, email)
    with unit_of_work(pair.landups.factory) as session:
        order = session.scalars(select(CloudOrder.id).where(CloudOrder.user_id == user.id)).one()
    assert _post(web, "/delivery", {"order_id": str(order), "contact_person": "Ms Lee", "contact_info": "9123 4567",
                                    "address": "Tsuen Wan", "preferred_date": SOON},
                 form_page=f"/delivery?order={order}").status_code == 303
    assert _post(web, "/account/profile", {"name": "Chan Tai Man", "phone": "9123 4567", "qq": "",
                                           "address": "1 Old Road, Kowloon", "language": "en"},
                 form_page="/account/profile").status_code == 200
    return user


@pytest.fixture(params=["sqlite", "mariadb"])
def own_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A Landups database of the test's own: Charter delivers the whole queue and invites everyone allowed."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'landups-own.db'}"
        return
    with fresh_mariadb_database() as url:
        yield url


def test_landups_through_charter(own_db_url: str, tmp_path: Path) -> None:
    with landups_with_charter(own_db_url, tmp_path) as pair, \
            httpx.Client(base_url=pair.landups_url, follow_redirects=False, timeout=30) as web:
        email = unique_email("live")
        user = _register_and_use(pair, web, email)
        pair.deliver()
        subject_id = _subject_id(pair, user)

        # consent at registration: the exact policy version, the notice, the browser's evidence
        with pair.api() as api:
            history = api.get(f"/v1/subjects/{subject_id}/consents", params={"history": "true"}).json()
        surveys = [e for e in history["history"] if e["purpose"] == "surveys"]
        assert [(e["action"], e["policy_version"], e["channel"], e["method"]) for e in surveys] == [
            ("grant", user.policy_version, "web", "checkbox")]
        refused = {e["purpose"] for e in history["history"] if e["action"] == "refuse"}
        assert refused and "surveys" not in refused

        # the banner: Charter's script with the publishable key only; the privacy-centre link
        console = web.get("/console").text
        assert f'{pair.charter_url}/static/charter-consent.js' in console and pair.publishable_key in console
        assert pair.secret_key not in console
        assert 'href="/account/privacy-centre"' in web.get("/account/privacy").text
        opened = web.get("/account/privacy-centre")   # a single-use link, minted through the SDK for this click
        assert opened.status_code == 303, opened.text
        assert opened.headers["location"].startswith(f"{pair.charter_url}/center/landups/enter?token=")
        assert opened.headers["location"] != web.get("/account/privacy-centre").headers["location"]
        preflight = httpx.options(f"{pair.charter_url}/v1/banner/{pair.publishable_key}/session", headers={
            "Origin": pair.landups_url, "Access-Control-Request-Method": "GET"})
        assert preflight.headers.get("access-control-allow-origin") == pair.landups_url

        # decisions: surveys allowed while consented; a handover asks `share` and is reported as a disclosure
        desk = _staff(pair)
        assert _post(desk, "/staff/surveys", {"survey": "console-2024"}, form_page="/staff").status_code == 200
        assert _invited(pair, user, "console-2024")
        with unit_of_work(pair.landups.factory) as session:
            delivery_id = session.scalars(select(OfflineDelivery.id).where(OfflineDelivery.user_id == user.id)).one()
        handed = _post(desk, "/staff/handover", {"table": "offline_deliveries", "record_id": str(delivery_id)},
                       form_page="/staff")
        assert handed.status_code == 303, handed.text

        # withdrawal: no survey invitation afterwards
        assert _post(web, "/account/privacy", {"purpose": "surveys", "choice": "withdraw"}).status_code == 303
        pair.deliver()
        assert _post(desk, "/staff/surveys", {"survey": "support-2024"}, form_page="/staff").status_code == 200
        assert not _invited(pair, user, "support-2024")

        # every report reached Charter (login events are kept by Landups: Charter has no endpoint for them yet)
        with unit_of_work(pair.landups.factory) as session:
            waiting = session.scalar(select(func.count()).select_from(CharterCall).where(
                CharterCall.user_id == user.id, CharterCall.delivered_at.is_(None)))
        assert waiting == 0

        # access request: within the PDPO deadline; logins, orders, which third party holds what, the photo file
        request_id, token, status = _request(pair, "access", email)
        assert status["status"] == "completed", status
        assert dt.date.fromisoformat(status["due_on"]) <= dt.date.today() + dt.timedelta(days=PDPO_DAYS)
        with pair.api() as api:
            bundle = api.get(f"/v1/requests/{request_id}/bundle", params={"format": "json"},
                             headers={"Charter-Request-Token": token}).json()
        text = str(bundle)
        for collection in ("login_events", "cloud_orders", "offline_deliveries", "real_name_records",
                           "id_photo_files"):
            assert collection in text, collection
        assert "contractor-example" in text
        assert "Tsuen Wan" in text

        # correction of the address, propagated to Landups' database
        _, _, status = _request(pair, "rectification", email, category="account.address",
                                value="2 New Road, Kowloon")
        assert status["status"].startswith("completed"), status
        assert _user(pair, user.email).address == "2 New Road, Kowloon"

        # account cancellation: nothing identifying left but retention-locked rows; the photo file is gone
        with unit_of_work(pair.landups.factory) as session:
            photo_files = list(session.scalars(select(IdPhoto.stored_name).where(IdPhoto.user_id == user.id)))
        assert photo_files and all((pair.landups.vault.path(n)).exists() for n in photo_files)
        _, _, status = _request(pair, "cancellation", email)
        assert status["status"].startswith("completed"), status
        assert status["status"] == "completed_with_held_items", status   # the retention-locked order rows
        _assert_nothing_identifying(pair, user, email, photo_files)


def _invited(pair: Pair, user: User, survey: str) -> bool:
    with unit_of_work(pair.landups.factory) as session:
        return session.scalar(select(func.count()).select_from(SurveyInvitation).where(
            SurveyInvitation.user_id == user.id, SurveyInvitation.survey == survey)) == 1


def _assert_nothing_identifying(pair: Pair, user: User, email: str, photo_files: list[str]) -> None:
    with unit_of_work(pair.landups.factory) as session:
        row = session.get(User, user.id)
        assert row is None or (row.email != email and row.phone is None and row.address is None
                               and row.name != "Chan Tai Man")
        assert session.scalar(select(func.count()).select_from(IdPhoto).where(IdPhoto.user_id == user.id)) == 0
        assert session.scalar(select(func.count()).select_from(LoginEvent).where(LoginEvent.user_id == user.id)) == 0
        assert session.scalar(select(func.count()).select_from(CharterCall).where(CharterCall.user_id == user.id)) == 0
        orders = list(session.scalars(select(CloudOrder).where(CloudOrder.user_id == user.id)))
        assert all("lee@example.com" not in o.contact_info and o.contact_person != "Ms Lee" for o in orders)
    assert not any(pair.landups.vault.path(n).exists() for n in photo_files)


def test_webhook_refuses_unsigned_and_stale_calls(own_db_url: str, tmp_path: Path) -> None:
    with landups_with_charter(own_db_url, tmp_path) as pair, httpx.Client(base_url=pair.landups_url) as web:
        body = b'{"operation":"retrieve","collection":"id_photo_files","lookup":{"stored_name":["x.sealed"]}}'
        assert web.post("/charter/webhook/id_photo_files", content=body).status_code == 401
        key = pair.landups.settings.charter_webhook_key
        assert key
        stale = sign(key.encode(), int(dt.datetime.now().timestamp()) - 3600, body)
        assert web.post("/charter/webhook/id_photo_files", content=body,
                        headers={"Charter-Signature": stale}).status_code == 401
        fresh = sign(key.encode(), int(dt.datetime.now().timestamp()), body)
        answer = web.post("/charter/webhook/id_photo_files", content=body, headers={"Charter-Signature": fresh})
        assert answer.status_code == 200 and answer.json() == {"rows": []}
