"""Registration with the exact policy version, minors and their guardians, login records, suspension."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from lubpur.models import CharterReport, ConsentChoice, GuardianConsent, LoginRecord, User, WebSession
from tests.examples.lubpur.factories import (
    POLICY_VERSION,
    count,
    csrf,
    minor_birth_date,
    post,
    register,
    registration,
    unique_email,
    user_by_email,
)
from tests.examples.lubpur.mailbox import Mailbox, text_of


def test_registration_records_the_policy_version_and_gives_welcome_points(web: TestClient, db: Session) -> None:
    form = register(web)
    page = web.get("/me")
    assert "100" in page.text
    user = user_by_email(db, form["email"])
    assert (user.policy_version, user.age_band, user.status, user.birth_date) == (POLICY_VERSION, "adult", "active",
                                                                                  None)
    report = db.scalars(select(CharterReport).where(CharterReport.user_id == user.id,
                                                    CharterReport.kind == "policy_acceptance")).one()
    assert report.payload["policy_version"] == POLICY_VERSION
    assert report.payload["identities"]["email"] == form["email"]
    choice = db.scalars(select(ConsentChoice).where(ConsentChoice.user_id == user.id)).one()
    assert (choice.purpose, choice.is_granted) == ("personalisation", False)


def test_the_registration_page_shows_the_policy_version(web: TestClient) -> None:
    page = web.get("/register").text
    assert f"版本 {POLICY_VERSION}" in page
    assert 'href="/policy"' in page


@pytest.mark.parametrize(("override", "field"), [
    ({"email": "not-an-email"}, "email"),
    ({"phone": "12345"}, "phone"),
    ({"password": "short1"}, "password"),
    ({"password": "onlyletterslong"}, "password"),
    ({"name": ""}, "name"),
    ({"birth_date": "2999-01-01"}, "birth_date"),
    ({"birth_date": "yesterday"}, "birth_date"),
    ({"accept_policy": ""}, "accept_policy"),
    ({"policy_version": "2019-01"}, "accept_policy"),
])
def test_bad_registration_input_is_refused_and_nothing_is_stored(web: TestClient, db: Session,
                                                                 override: dict[str, str], field: str) -> None:
    form = registration(**override)
    response = web.post("/register", data={"csrf": csrf(web), **form})
    assert response.status_code == 400
    assert 'id="form-error"' in response.text
    assert f'id="f-{field}"' in response.text or field == "accept_policy"
    assert count(db, User, User.phone == form["phone"]) == 0


def test_a_second_account_with_the_same_email_is_refused(web: TestClient, db: Session) -> None:
    form = register(web)
    fresh = TestClient(web.app)
    response = fresh.post("/register", data={"csrf": csrf(fresh), **registration(email=form["email"])})
    assert response.status_code == 400
    assert "已注册" in response.text
    assert count(db, User, User.email == form["email"]) == 1


def test_a_form_without_the_csrf_token_is_refused(web: TestClient, db: Session) -> None:
    form = registration()
    web.get("/register")
    response = web.post("/register", data={"csrf": "forged", **form})
    assert response.status_code == 403
    assert count(db, User, User.email == form["email"]) == 0


def test_a_minor_needs_the_guardians_consent_by_email(web: TestClient, db: Session, mailbox: Mailbox) -> None:
    guardian = unique_email("guardian")
    form = registration(birth_date=minor_birth_date(), guardian_name="李女士", guardian_relationship="mother",
                        guardian_email=guardian, guardian_phone="13800138000")
    response = web.post("/register", data={"csrf": csrf(web), **form})
    assert response.status_code == 200
    assert "监护人" in response.text
    user = user_by_email(db, form["email"])
    assert (user.age_band, user.status, user.birth_date is not None) == ("minor", "pending_guardian", True)
    login = web.post("/login", data={"csrf": csrf(web, "/login"), "login": form["email"],
                                     "password": form["password"]})
    assert login.status_code == 400
    assert "监护人" in login.text

    mail = mailbox.wait_for(guardian)
    link = re.search(r"http://localhost:8100(/guardian/confirm\?token=\S+)", text_of(mail))
    assert link
    page = web.get(link.group(1))
    assert "李女士" in page.text
    token = link.group(1).split("token=")[1]
    refused = web.post("/guardian/confirm", data={"csrf": csrf(web, link.group(1)), "token": token})
    assert refused.status_code == 400
    web.post("/guardian/confirm", data={"csrf": csrf(web, link.group(1)), "token": token, "agree": "yes"})
    consent = db.scalars(select(GuardianConsent).where(GuardianConsent.user_id == user.id)).one()
    assert consent.confirmed_at is not None
    assert (consent.relationship, consent.guardian_email) == ("mother", guardian)
    assert user_by_email(db, form["email"]).status == "active"
    assert web.get(link.group(1)).status_code == 404  # the link works once


def test_a_minor_without_guardian_details_is_refused(web: TestClient, db: Session) -> None:
    form = registration(birth_date=minor_birth_date())
    response = web.post("/register", data={"csrf": csrf(web), **form})
    assert response.status_code == 400
    assert count(db, User, User.email == form["email"]) == 0


def test_logins_leave_records_with_ip_browser_and_time(web: TestClient, db: Session) -> None:
    form = register(web)
    other = TestClient(web.app, headers={"user-agent": "Mozilla/5.0 TestBrowser"})
    failed = other.post("/login", data={"csrf": csrf(other, "/login"), "login": form["email"], "password": "nope"})
    assert failed.status_code == 400
    ok = other.post("/login", data={"csrf": csrf(other, "/login"), "login": form["phone"][3:],
                                    "password": form["password"]})
    assert ok.url.path == "/me"
    user = user_by_email(db, form["email"])
    records = db.scalars(select(LoginRecord).where(LoginRecord.user_id == user.id).order_by(LoginRecord.id)).all()
    assert [r.succeeded for r in records] == [False, True]
    assert records[1].user_agent == "Mozilla/5.0 TestBrowser"
    assert records[1].ip
    assert "TestBrowser" in other.get("/me/security").text


def test_reporting_unauthorised_use_suspends_the_account(web: TestClient, db: Session) -> None:
    form = register(web)
    wrong = post(web, "/me/security/report", {"password": "wrong-password1"}, csrf_from="/me/security")
    assert wrong.status_code == 400
    assert user_by_email(db, form["email"]).status == "active"
    response = post(web, "/me/security/report", {"password": form["password"]}, csrf_from="/me/security")
    assert response.status_code == 200
    user = user_by_email(db, form["email"])
    assert user.status == "suspended"
    assert count(db, WebSession, WebSession.user_id == user.id) == 0
    assert web.get("/me").url.path == "/login"
    again = web.post("/login", data={"csrf": csrf(web, "/login"), "login": form["email"],
                                     "password": form["password"]})
    assert again.status_code == 400
    assert "暂停" in again.text
    assert count(db, CharterReport, CharterReport.user_id == user.id, CharterReport.kind == "account_suspended") == 1


def test_logout_ends_the_session(web: TestClient) -> None:
    register(web)
    post(web, "/logout")
    assert web.get("/me").url.path == "/login"


def test_a_user_on_an_older_policy_version_is_asked_again(web: TestClient, db: Session) -> None:
    form = register(web)
    user = user_by_email(db, form["email"])
    user.policy_version = "2020-01"
    db.commit()
    page = web.get("/me")
    assert page.url.path == "/policy/accept"
    assert "2020-01" in page.text
    post(web, "/policy/accept", {"policy_version": POLICY_VERSION, "accept_policy": "yes"}, csrf_from="/policy/accept")
    assert user_by_email(db, form["email"]).policy_version == POLICY_VERSION
    assert web.get("/me").url.path == "/me"
