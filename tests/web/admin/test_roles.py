"""Every admin page and action is guarded by a role, and staff see only their own controller."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from charter.accounts.models import Role
from charter.web import admin
from charter.web.admin.nav import ADMIN_NAV
from tests.factories import StaffAccount, make_controller, make_staff, publish_policy
from tests.web.pages import browser, csrf_of, sign_in
from tests.web.routes import page_routes

PUBLIC = {
    ("GET", "/admin/sign-in"), ("POST", "/admin/sign-in"),
    ("GET", "/admin/sign-in/code"), ("POST", "/admin/sign-in/code"),
    ("GET", "/admin/sign-in/enrol"), ("POST", "/admin/sign-in/enrol"),
    ("POST", "/admin/sign-out"),
}

# (method, route, least role, URL to call with {version} and {staff_id} filled in, form data)
GUARDED: list[tuple[str, str, Role, str, dict[str, str]]] = [
    ("GET", "/admin", Role.VIEWER, "/admin", {}),
    ("GET", "/admin/policies", Role.VIEWER, "/admin/policies", {}),
    ("POST", "/admin/policies", Role.PRIVACY_OFFICER, "/admin/policies", {}),
    ("GET", "/admin/policies/diff", Role.VIEWER, "/admin/policies/diff?from=1.0&to=2.0", {}),
    ("GET", "/admin/policies/v/{version}", Role.VIEWER, "/admin/policies/v/2.0", {}),
    ("GET", "/admin/policies/v/{version}/promises", Role.VIEWER, "/admin/policies/v/1.0/promises", {}),
    ("GET", "/admin/staff", Role.ADMIN, "/admin/staff", {}),
    ("POST", "/admin/staff", Role.ADMIN, "/admin/staff", {"email": "new@staff.example", "role": "viewer"}),
    ("POST", "/admin/staff/{staff_id}/role", Role.ADMIN, "/admin/staff/{target}/role", {"role": "operator"}),
    ("POST", "/admin/staff/{staff_id}/deactivate", Role.ADMIN, "/admin/staff/{target}/deactivate", {}),
    ("GET", "/admin/requests", Role.VIEWER, "/admin/requests?overdue=true&kind=access", {}),
    ("GET", "/admin/requests/{request_id}", Role.VIEWER, "/admin/requests/no-such-request", {}),
    ("POST", "/admin/requests/{request_id}/approve", Role.OPERATOR, "/admin/requests/no-such-request/approve", {}),
    ("POST", "/admin/requests/{request_id}/refuse", Role.OPERATOR, "/admin/requests/no-such-request/refuse",
     {"ground": "national_security"}),
    ("POST", "/admin/requests/manual/{manual_id}/complete", Role.OPERATOR, "/admin/requests/manual/0/complete",
     {"rows_affected": "1"}),
    ("GET", "/admin/appeals", Role.VIEWER, "/admin/appeals?status=all", {}),
    ("GET", "/admin/appeals/{appeal_id}", Role.VIEWER, "/admin/appeals/0", {}),
    ("POST", "/admin/appeals/{appeal_id}/decide", Role.OPERATOR, "/admin/appeals/0/decide",
     {"outcome": "upheld", "note": "Reviewed."}),
    ("GET", "/admin/consents", Role.VIEWER, "/admin/consents?from=2024-01-01&to=2024-12-31", {}),
    ("GET", "/admin/datamap", Role.VIEWER, "/admin/datamap", {}),
    ("GET", "/admin/recipients", Role.VIEWER, "/admin/recipients", {}),
    ("GET", "/admin/audit", Role.PRIVACY_OFFICER, "/admin/audit", {}),
    ("POST", "/admin/audit/verify", Role.PRIVACY_OFFICER, "/admin/audit/verify", {}),
]


def test_the_table_covers_every_admin_route() -> None:
    assert page_routes(admin) == PUBLIC | {(m, p) for m, p, *_ in GUARDED}, "add the route to GUARDED (or PUBLIC)"


def test_the_menu_asks_for_the_same_roles_as_the_pages() -> None:
    pages = {path: role for method, path, role, *_ in GUARDED if method == "GET"}
    for item in ADMIN_NAV:
        if item.is_built:
            assert pages[item.path or ""] is item.role, item.key


@dataclass(frozen=True)
class Office:
    """One controller with a signed-in browser per role, shared by the matrix (the actions are repeatable)."""

    controller_id: str
    staff: dict[Role, StaffAccount]
    clients: dict[Role, TestClient]
    target: StaffAccount


@pytest.fixture(scope="module")
def office(app: FastAPI, sessions: sessionmaker[Session]) -> Office:
    with sessions() as s, s.begin():
        cid = make_controller(s)
    publish_policy(sessions, cid, "1.0")
    publish_policy(sessions, cid, "2.0", extra_purpose=True, effective="2024-06-01")
    staff = {role: make_staff(sessions, cid, role.value) for role in Role}
    clients = {}
    for role, account in staff.items():
        clients[role] = browser(app)
        sign_in(clients[role], account)
    return Office(cid, staff, clients, make_staff(sessions, cid, "viewer"))


def _call(client: TestClient, method: str, url: str, data: dict[str, str]) -> tuple[int, str]:
    if method == "GET":
        r = client.get(url)
    else:
        r = client.post(url, data={"csrf": csrf_of(client.get("/admin").text), **data})
    return r.status_code, r.headers.get("location", "")


@pytest.mark.parametrize("case", GUARDED, ids=[f"{m} {p}" for m, p, *_ in GUARDED])
def test_each_role_gets_exactly_what_it_is_allowed(
        office: Office, case: tuple[str, str, Role, str, dict[str, str]]) -> None:
    method, _, least, url, data = case
    url = url.format(target=office.target.id)
    for role, client in office.clients.items():
        status, location = _call(client, method, url, data)
        if role.allows(least):
            assert status not in (401, 403) and location != "/admin/sign-in", (role, status)
            assert status < 500
        else:
            assert status == 403, (role, status)


def test_a_viewer_cannot_publish(office: Office) -> None:
    client = office.clients[Role.VIEWER]
    page = client.get("/admin/policies")
    assert "Check and publish" not in page.text and "检查并发布" not in page.text  # the form is not offered
    r = client.post("/admin/policies", data={"csrf": csrf_of(page.text)},
                    files={"policy": ("p.yaml", b"schema: charter.policy/v1\n", "application/yaml")})
    assert r.status_code == 403
    assert "无权操作" in r.text


def test_staff_see_only_their_own_controller(app: FastAPI, sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        mine, theirs = make_controller(s), make_controller(s)
    publish_policy(sessions, mine, "1.0")
    publish_policy(sessions, theirs, "7.7")
    me = make_staff(sessions, mine, "admin")
    stranger = make_staff(sessions, theirs, "admin")
    client = browser(app)  # type: ignore[arg-type]
    sign_in(client, me)
    assert client.get("/admin/policies/v/1.0").status_code == 200
    assert client.get("/admin/policies/v/7.7").status_code == 404
    assert client.get("/admin/policies/v/7.7/promises").status_code == 404
    assert client.get("/admin/policies/diff?from=1.0&to=7.7").status_code == 404
    assert "7.7" not in client.get("/admin/policies").text
    staff_page = client.get("/admin/staff").text
    assert stranger.email not in staff_page
    token = csrf_of(staff_page)
    assert client.post(f"/admin/staff/{stranger.id}/role", data={"csrf": token, "role": "viewer"}).status_code == 404
    assert client.post(f"/admin/staff/{stranger.id}/deactivate", data={"csrf": token}).status_code == 404
    audit = client.get("/admin/audit").text
    assert theirs not in audit
    # Their credentials do not open my controller either.
    other = browser(app)  # type: ignore[arg-type]
    r = other.post("/admin/sign-in", data={"csrf": csrf_of(other.get("/admin/sign-in").text), "controller": mine,
                                           "email": stranger.email, "password": stranger.password})
    assert r.status_code == 401
