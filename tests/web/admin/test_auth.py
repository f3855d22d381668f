"""Staff sign-in through HTTP: password then TOTP, enrolment, failures, lockout, sign-out and expiry."""

from __future__ import annotations

import datetime as dt

import pyotp
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from charter.accounts.models import StaffUser
from charter.audit.models import AuditEvent
from charter.sessions.models import WebSession
from tests.factories import make_controller, make_staff
from tests.web.pages import browser, code, csrf_of, post_form, sign_in


def _controller(sessions: sessionmaker[Session]) -> str:
    with sessions() as s, s.begin():
        return make_controller(s)


def _actions(sessions: sessionmaker[Session], cid: str) -> list[str]:
    with sessions() as s:
        return list(s.execute(select(AuditEvent.action).where(AuditEvent.controller_id == cid)
                              .order_by(AuditEvent.seq)).scalars())


def _password(web: TestClient, account_cid: str, email: str, password: str) -> int:
    r = post_form(web, "/admin/sign-in", "/admin/sign-in",
                  {"controller": account_cid, "email": email, "password": password})
    return r.status_code


def test_admin_pages_send_a_visitor_to_sign_in(web: TestClient) -> None:
    r = web.get("/admin")
    assert (r.status_code, r.headers["location"]) == (303, "/admin/sign-in")
    assert web.get("/admin/policies").headers["location"] == "/admin/sign-in"


def test_password_then_totp_signs_in_and_is_audited(web: TestClient, sessions: sessionmaker[Session]) -> None:
    account = make_staff(sessions, _controller(sessions), "viewer")
    sign_in(web, account)
    page = web.get("/admin")
    assert page.status_code == 200
    assert account.email in page.text
    cookie = web.cookies.get("charter_staff")
    assert cookie
    assert "staff.signed_in" in _actions(sessions, account.controller_id)


def test_session_cookie_is_httponly_samesite_and_path_scoped(web: TestClient,
                                                             sessions: sessionmaker[Session]) -> None:
    account = make_staff(sessions, _controller(sessions))
    r = post_form(web, "/admin/sign-in", "/admin/sign-in",
                  {"controller": account.controller_id, "email": account.email, "password": account.password})
    set_cookie = r.headers["set-cookie"].lower()
    assert "charter_staff=" in set_cookie
    assert "httponly" in set_cookie
    assert "samesite=lax" in set_cookie
    assert "path=/admin" in set_cookie
    assert "secure" not in set_cookie  # plain http in tests; https sets Secure (see test below)


def test_cookies_are_secure_over_https(app: object, sessions: sessionmaker[Session]) -> None:
    client = browser(app, base_url="https://testserver")  # type: ignore[arg-type]
    account = make_staff(sessions, _controller(sessions))
    page = client.get("/admin/sign-in")
    assert "secure" in page.headers["set-cookie"].lower()
    assert "strict-transport-security" in page.headers
    r = client.post("/admin/sign-in", data={"csrf": csrf_of(page.text), "controller": account.controller_id,
                                            "email": account.email, "password": account.password})
    assert r.status_code == 303
    assert "secure" in r.headers["set-cookie"].lower()


def test_wrong_password_is_refused_without_saying_which_part(web: TestClient,
                                                             sessions: sessionmaker[Session]) -> None:
    account = make_staff(sessions, _controller(sessions))
    r = post_form(web, "/admin/sign-in", "/admin/sign-in",
                  {"controller": account.controller_id, "email": account.email, "password": "wrong password!"})
    assert r.status_code == 401
    assert "控制者、邮箱或密码错误" in r.text  # Chinese unless the browser or the lang cookie asks otherwise
    assert web.get("/admin").status_code == 303
    assert "staff.sign_in_failed" in _actions(sessions, account.controller_id)
    unknown = post_form(web, "/admin/sign-in", "/admin/sign-in",
                        {"controller": account.controller_id, "email": "nobody@x.example", "password": "x" * 12})
    assert unknown.status_code == 401


def test_wrong_totp_is_refused_and_a_code_works_only_once(web: TestClient,
                                                          sessions: sessionmaker[Session]) -> None:
    account = make_staff(sessions, _controller(sessions))
    assert account.totp_secret
    assert _password(web, account.controller_id, account.email, account.password) == 303
    wrong = "000000" if code(account.totp_secret) != "000000" else "111111"
    r = post_form(web, "/admin/sign-in/code", "/admin/sign-in/code", {"code": wrong})
    assert r.status_code == 401
    assert web.get("/admin").status_code == 303
    used = code(account.totp_secret)
    assert post_form(web, "/admin/sign-in/code", "/admin/sign-in/code", {"code": used}).status_code == 303
    # The same code again, in a new sign-in within its 30 seconds, is refused: no replay.
    web.cookies.clear()
    assert _password(web, account.controller_id, account.email, account.password) == 303
    assert post_form(web, "/admin/sign-in/code", "/admin/sign-in/code", {"code": used}).status_code == 401


def test_the_code_page_needs_the_password_first(web: TestClient) -> None:
    assert web.get("/admin/sign-in/code").headers["location"] == "/admin/sign-in"
    r = post_form(web, "/admin/sign-in", "/admin/sign-in/code", {"code": "123456"})
    assert (r.status_code, r.headers["location"]) == (303, "/admin/sign-in")


def test_first_sign_in_enrols_a_second_factor(web: TestClient, sessions: sessionmaker[Session]) -> None:
    account = make_staff(sessions, _controller(sessions), enrolled=False)
    r = post_form(web, "/admin/sign-in", "/admin/sign-in",
                  {"controller": account.controller_id, "email": account.email, "password": account.password})
    assert r.headers["location"] == "/admin/sign-in/enrol"
    page = web.get("/admin/sign-in/enrol")
    assert "otpauth://totp/" in page.text
    secret = page.text.split('data-secret="')[1].split('"')[0]
    bad = web.post("/admin/sign-in/enrol", data={"csrf": csrf_of(page.text), "code": "12345"})
    assert bad.status_code == 401
    good = post_form(web, "/admin/sign-in/enrol", "/admin/sign-in/enrol", {"code": pyotp.TOTP(secret).now()})
    assert (good.status_code, good.headers["location"]) == (303, "/admin")
    with sessions() as s:
        assert s.get(StaffUser, account.id).totp_secret == secret  # type: ignore[union-attr]
    assert {"staff.totp_enrolled", "staff.signed_in"} <= set(_actions(sessions, account.controller_id))


def test_repeated_wrong_passwords_lock_the_account_with_a_clear_message(
        web: TestClient, sessions: sessionmaker[Session]) -> None:
    account = make_staff(sessions, _controller(sessions))
    statuses = [_password(web, account.controller_id, account.email, "wrong password!") for _ in range(5)]
    assert statuses == [401, 401, 401, 401, 429]
    r = post_form(web, "/admin/sign-in", "/admin/sign-in",
                  {"controller": account.controller_id, "email": account.email, "password": account.password})
    assert r.status_code == 429  # locked even with the right password
    web.cookies.set("lang", "en")
    locked = post_form(web, "/admin/sign-in", "/admin/sign-in",
                       {"controller": account.controller_id, "email": account.email, "password": account.password})
    assert "Too many attempts. Sign-in is locked for 15 minutes" in locked.text


def test_the_lockout_is_kept_in_the_database_so_another_worker_sees_it(
        app: object, sessions: sessionmaker[Session], settings: object) -> None:
    from charter.web.app import create_app  # noqa: PLC0415 - a second app: another worker

    account = make_staff(sessions, _controller(sessions))
    first = browser(app)  # type: ignore[arg-type]
    for _ in range(5):
        _password(first, account.controller_id, account.email, "wrong password!")
    other_worker = create_app(settings)  # type: ignore[arg-type]
    second = browser(other_worker)
    assert _password(second, account.controller_id, account.email, account.password) == 429
    other_worker.state.engine.dispose()


def test_repeated_wrong_codes_lock_and_end_the_half_signed_in_session(
        web: TestClient, sessions: sessionmaker[Session]) -> None:
    account = make_staff(sessions, _controller(sessions))
    assert _password(web, account.controller_id, account.email, account.password) == 303
    statuses = [post_form(web, "/admin/sign-in/code", "/admin/sign-in/code", {"code": "000001"}).status_code
                for _ in range(5)]
    assert statuses == [401, 401, 401, 401, 429]
    assert web.get("/admin/sign-in/code").headers["location"] == "/admin/sign-in"
    assert _password(web, account.controller_id, account.email, account.password) == 303
    assert account.totp_secret
    r = post_form(web, "/admin/sign-in/code", "/admin/sign-in/code", {"code": code(account.totp_secret)})
    assert r.status_code == 429  # still locked, even with the right code


def test_sign_out_ends_the_session_on_the_server(web: TestClient, sessions: sessionmaker[Session]) -> None:
    account = make_staff(sessions, _controller(sessions))
    sign_in(web, account)
    stolen = web.cookies.get("charter_staff")
    r = post_form(web, "/admin", "/admin/sign-out")
    assert (r.status_code, r.headers["location"]) == (303, "/admin/sign-in")
    assert web.get("/admin").status_code == 303
    web.cookies.set("charter_staff", stolen or "", path="/admin")  # a copy of the old cookie is worthless
    assert web.get("/admin").status_code == 303
    assert "staff.signed_out" in _actions(sessions, account.controller_id)


def test_an_idle_or_expired_session_ends(web: TestClient, sessions: sessionmaker[Session]) -> None:
    account = make_staff(sessions, _controller(sessions))
    sign_in(web, account)
    assert web.get("/admin").status_code == 200
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=31)
    with sessions() as s, s.begin():
        s.execute(update(WebSession).where(WebSession.principal == f"staff:{account.id}",
                                           WebSession.controller_id == account.controller_id)
                  .values(last_seen_at=long_ago))
    assert web.get("/admin").status_code == 303
    sign_in(web, account, steps_ahead=1)
    assert web.get("/admin").status_code == 200
    with sessions() as s, s.begin():
        s.execute(update(WebSession).where(WebSession.principal == f"staff:{account.id}")
                  .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    assert web.get("/admin").status_code == 303


def test_a_tampered_cookie_is_ignored(web: TestClient, sessions: sessionmaker[Session]) -> None:
    account = make_staff(sessions, _controller(sessions))
    sign_in(web, account)
    cookie = web.cookies.get("charter_staff") or ""
    token, _, signature = cookie.partition(".")
    web.cookies.clear()
    web.cookies.set("charter_staff", f"{token}x.{signature}", path="/admin")
    assert web.get("/admin").status_code == 303


def test_a_deactivated_account_loses_its_session_at_once(web: TestClient, sessions: sessionmaker[Session]) -> None:
    account = make_staff(sessions, _controller(sessions), "viewer")
    sign_in(web, account)
    with sessions() as s, s.begin():
        s.execute(update(StaffUser).where(StaffUser.id == account.id).values(is_active=False))
    assert web.get("/admin").status_code == 303
