"""Register, log in and out, login records, profile, sessions and CSRF, through HTTP."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from landups.db import unit_of_work
from landups.models import LoginEvent, PageView, User, WebSession
from landups.web.context import AppState
from tests.examples.landups.factories import PASSWORD, field_error, login, post, register, unique_email

CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/126.0.0.0 Safari/537.36")


def _user(state: AppState, email: str) -> User:
    with unit_of_work(state.factory) as session:
        return session.scalars(select(User).where(User.email == email)).one()


def test_register_creates_the_account_with_the_accepted_policy_version(web: TestClient, state: AppState) -> None:
    email = register(web, language="zh-TW")
    user = _user(state, email)
    assert user.policy_version == "landups-2024.1"
    assert user.phone == "+85291234567" and user.language == "zh-TW"
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    page = web.get("/console")
    assert page.status_code == 200 and "歡迎" in page.text


def test_session_cookie_is_secure_httponly_lax(web: TestClient) -> None:
    response = web.get("/")
    cookie = response.headers["set-cookie"]
    assert "landups_sid=" in cookie and "HttpOnly" in cookie and "Secure" in cookie and "SameSite=lax" in cookie
    assert "Content-Security-Policy" in response.headers and response.headers["X-Frame-Options"] == "DENY"


def test_register_errors_name_the_field_and_store_nothing(web: TestClient, state: AppState) -> None:
    email = unique_email()
    response = post(web, "/register", {"email": email, "password": "short", "password_again": "short", "name": "",
                                       "phone": "123", "account_type": "personal", "language": "en"})
    assert response.status_code == 400
    assert field_error(response.text, "password") == "Password: Use at least 10 characters."
    assert field_error(response.text, "name") == "Name: This is required."
    assert field_error(response.text, "phone") is not None
    assert field_error(response.text, "accept_policy") is not None
    assert "short" not in response.text   # passwords are never echoed
    with unit_of_work(state.factory) as session:
        assert session.scalar(select(func.count()).select_from(User).where(User.email == email)) == 0


def test_register_error_in_traditional_chinese(web: TestClient) -> None:
    post(web, "/language", {"lang": "zh-TW", "next": "/register"}, form_page="/register")
    response = post(web, "/register", {"email": "bad", "password": PASSWORD, "password_again": PASSWORD,
                                       "name": "陳大文", "accept_policy": "yes"})
    assert response.status_code == 400
    assert field_error(response.text, "email") == "電郵地址: 請輸入有效的電郵地址，例如 name@example.com。"


def test_duplicate_email_is_refused(web: TestClient, landups_app: object) -> None:
    email = register(web)
    other = TestClient(landups_app, base_url="https://testserver", follow_redirects=False)  # type: ignore[arg-type]
    response = post(other, "/register", {"email": email.upper().replace("@EXAMPLE.COM", "@example.com"),
                                         "password": PASSWORD, "password_again": PASSWORD, "name": "X",
                                         "accept_policy": "yes"})
    assert response.status_code == 400 and field_error(response.text, "email") is not None


def test_csrf_token_is_required(web: TestClient) -> None:
    web.get("/register")
    response = web.post("/register", data={"email": unique_email(), "password": PASSWORD})
    assert response.status_code == 403


def test_login_is_recorded_and_the_user_sees_it(web: TestClient, state: AppState, landups_app: object) -> None:
    email = register(web)
    fresh = TestClient(landups_app, base_url="https://testserver", follow_redirects=False,  # type: ignore[arg-type]
                       headers={"user-agent": CHROME, "accept-language": "zh-HK,zh;q=0.9"})
    assert login(fresh, email, "wrong password!").status_code == 400
    response = login(fresh, email)
    assert response.status_code == 303 and response.headers["location"] == "/console"
    fresh.get("/console")
    page = fresh.get("/account/logins")
    assert page.status_code == 200
    assert "Chrome 126" in page.text and "testclient" in page.text and "zh-HK" in page.text
    assert "Wrong password" in page.text or "密碼錯誤" in page.text
    with unit_of_work(state.factory) as session:
        user = session.scalars(select(User).where(User.email == email)).one()
        events = session.scalars(select(LoginEvent).where(LoginEvent.user_id == user.id)
                                 .order_by(LoginEvent.id)).all()
        assert [e.outcome for e in events] == ["success", "failure", "success"]   # registration logs in too
        assert (events[2].browser, events[2].os, events[2].device, events[2].language) == (
            "Chrome 126", "Windows", "desktop", "zh-HK")
        paths = session.scalars(select(PageView.path).where(PageView.user_id == user.id)).all()
        assert "/account/logins" in paths and "/console" in paths


def test_login_locks_after_repeated_failures(web: TestClient) -> None:
    email = register(web)
    for _ in range(5):
        assert login(web, email, "not the password").status_code == 400
    response = login(web, email)
    assert response.status_code == 400 and "15 minutes" in response.text


def test_unknown_email_gives_the_same_answer(web: TestClient) -> None:
    response = login(web, unique_email())
    assert response.status_code == 400 and "The email or password is not right." in response.text


def test_logout_ends_the_server_session(web: TestClient, state: AppState) -> None:
    email = register(web)
    user = _user(state, email)
    token = post(web, "/logout", {}, form_page="/console")
    assert token.status_code == 303
    assert web.get("/console").status_code == 303
    with unit_of_work(state.factory) as session:
        assert session.scalar(select(func.count()).select_from(WebSession)
                              .where(WebSession.user_id == user.id)) == 0


def test_login_required_pages_redirect(web: TestClient) -> None:
    for path in ("/console", "/real-name", "/market", "/billing", "/account/logins", "/real-name/photo"):
        response = web.get(path)
        assert response.status_code == 303 and response.headers["location"] == "/login", path


def test_profile_and_language_setting(web: TestClient, state: AppState) -> None:
    email = register(web)
    response = post(web, "/account/profile", {"name": "陳大文", "phone": "+86 131 2345 6789", "qq": "12345678",
                                              "address": "香港中環德輔道中 1 號", "language": "zh-CN"})
    assert response.status_code == 200 and "已保存" in response.text
    user = _user(state, email)
    assert (user.phone, user.qq, user.language) == ("+8613123456789", "12345678", "zh-CN")
    bad = post(web, "/account/profile", {"name": "x", "qq": "12ab", "language": "zh-CN"})
    assert bad.status_code == 400 and field_error(bad.text, "qq") == "QQ 号码: QQ 号码为 5 至 12 位数字。"
    assert _user(state, email).qq == "12345678"


def test_language_switch_is_remembered(web: TestClient) -> None:
    post(web, "/language", {"lang": "zh-TW", "next": "/"}, form_page="/")
    assert "註冊" in web.get("/").text
    response = post(web, "/language", {"lang": "en", "next": "https://evil.example/"}, form_page="/")
    assert response.headers["location"] == "/"
