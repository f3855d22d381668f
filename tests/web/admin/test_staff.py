"""Staff management (admins only): create, change a role, deactivate — audited; the list read is audited too."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from charter.accounts.models import StaffUser
from charter.audit.models import AuditEvent
from tests.factories import StaffAccount, make_controller, make_staff
from tests.web.pages import browser, code, post_form, sign_in


def _admin(web: TestClient, sessions: sessionmaker[Session]) -> StaffAccount:
    with sessions() as s, s.begin():
        cid = make_controller(s)
    account = make_staff(sessions, cid, "admin")
    sign_in(web, account)
    web.cookies.set("lang", "en")
    return account


def _events(sessions: sessionmaker[Session], cid: str) -> list[AuditEvent]:
    with sessions() as s:
        return list(s.execute(select(AuditEvent).where(AuditEvent.controller_id == cid)
                              .order_by(AuditEvent.seq)).scalars())


def test_showing_the_staff_list_is_audited_as_a_staff_read(web: TestClient, sessions: sessionmaker[Session]) -> None:
    me = _admin(web, sessions)
    colleague = make_staff(sessions, me.controller_id, "viewer")
    page = web.get("/admin/staff")
    assert colleague.email in page.text
    read = [e for e in _events(sessions, me.controller_id) if e.action == "personal_data.read"]
    assert len(read) == 1
    assert (read[0].actor, read[0].target) == (f"staff:{me.id}", "staff:list")
    assert read[0].data["fields"] == ["email", "role", "is_active"]
    assert colleague.email not in str(read[0].data)  # never the values


def test_create_a_staff_member_who_then_enrols_and_signs_in(app: object, web: TestClient,
                                                            sessions: sessionmaker[Session]) -> None:
    me = _admin(web, sessions)
    r = post_form(web, "/admin/staff", "/admin/staff", {"email": "New.Person@Staff.example", "role": "operator"})
    assert r.status_code == 201
    password = r.text.split('<code id="new-password">')[1].split("</code>")[0]
    assert len(password) >= 12
    created = [e for e in _events(sessions, me.controller_id) if e.action == "staff.created"]
    assert created[-1].data == {"role": "operator"}
    newcomer = browser(app)  # type: ignore[arg-type]
    first = post_form(newcomer, "/admin/sign-in", "/admin/sign-in",
                      {"controller": me.controller_id, "email": "new.person@staff.example", "password": password})
    assert first.headers["location"] == "/admin/sign-in/enrol"
    secret = newcomer.get("/admin/sign-in/enrol").text.split('data-secret="')[1].split('"')[0]
    assert post_form(newcomer, "/admin/sign-in/enrol", "/admin/sign-in/enrol",
                     {"code": code(secret)}).status_code == 303
    assert newcomer.get("/admin").status_code == 200
    assert newcomer.get("/admin/staff").status_code == 403  # an operator is not an admin


def test_create_refuses_bad_input_and_duplicates(web: TestClient, sessions: sessionmaker[Session]) -> None:
    me = _admin(web, sessions)
    r = post_form(web, "/admin/staff", "/admin/staff", {"email": "nope", "role": "viewer"})
    assert (r.status_code, "That is not an email address." in r.text) == (400, True)
    r = post_form(web, "/admin/staff", "/admin/staff", {"email": me.email, "role": "viewer"})
    assert (r.status_code, "already exists" in r.text) == (409, True)
    r = post_form(web, "/admin/staff", "/admin/staff", {"email": "a@b.example", "role": "owner"})
    assert r.status_code == 400


def test_change_a_role_and_deactivate_are_audited_and_end_sessions(
        app: object, web: TestClient, sessions: sessionmaker[Session]) -> None:
    me = _admin(web, sessions)
    colleague = make_staff(sessions, me.controller_id, "viewer")
    theirs = browser(app)  # type: ignore[arg-type]
    sign_in(theirs, colleague)
    assert theirs.get("/admin/audit").status_code == 403
    r = post_form(web, "/admin/staff", f"/admin/staff/{colleague.id}/role", {"role": "privacy_officer"})
    assert (r.status_code, r.headers["location"]) == (303, "/admin/staff")
    assert theirs.get("/admin/audit").status_code == 200  # the new role applies at once
    r = post_form(web, "/admin/staff", f"/admin/staff/{colleague.id}/deactivate")
    assert r.status_code == 303
    assert theirs.get("/admin").headers["location"] == "/admin/sign-in"
    actions = [(e.action, e.target, e.data) for e in _events(sessions, me.controller_id)]
    assert ("staff.role_changed", f"staff:{colleague.id}", {"from": "viewer", "to": "privacy_officer"}) in actions
    assert ("staff.deactivated", f"staff:{colleague.id}", {}) in actions
    with sessions() as s:
        assert s.get(StaffUser, colleague.id).is_active is False  # type: ignore[union-attr]


def test_the_last_admin_cannot_be_removed_and_no_one_changes_themselves(
        web: TestClient, sessions: sessionmaker[Session]) -> None:
    me = _admin(web, sessions)
    r = post_form(web, "/admin/staff", f"/admin/staff/{me.id}/role", {"role": "viewer"})
    assert (r.status_code, "You cannot change your own role" in r.text) == (403, True)
    r = post_form(web, "/admin/staff", f"/admin/staff/{me.id}/deactivate")
    assert r.status_code == 403
    with sessions() as s:
        assert s.get(StaffUser, me.id).role == "admin"  # type: ignore[union-attr]
