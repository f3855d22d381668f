"""Every page renders in zh-CN, zh-TW and en with no message missing from the catalogues."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from charter.core.i18n import Lang
from tests.factories import make_controller, make_staff, publish_policy
from tests.web.pages import browser, csrf_of, post_form, sign_in

ADMIN_PAGES = [
    ("/admin", 200), ("/admin/policies", 200), ("/admin/policies/v/1.0", 200),
    ("/admin/policies/v/2.0?published=1", 200), ("/admin/policies/v/1.0?published=0", 200),
    ("/admin/policies/diff?from=1.0&to=2.0", 200), ("/admin/policies/diff?from=1.0&to=1.0", 200),
    ("/admin/policies/v/2.0/promises", 200), ("/admin/staff", 200), ("/admin/audit", 200),
    ("/admin/appeals", 200), ("/admin/appeals?status=all", 200), ("/admin/appeals/0", 404),
    ("/admin/datamap", 200), ("/admin/recipients", 200), ("/admin/consents", 200),
    ("/admin/consents?from=2024-01-01&to=2024-12-31", 200),
    ("/admin/policies/v/9.9", 404), ("/admin/nowhere", 404),
]
CENTER_PAGES = ["", "/versions", "/versions/1.0", "/changes", "/changes?from=2.0&to=1.0", "/changes?from=1.0&to=1.0",
                "/sign-in", "/guardian"]


@pytest.mark.parametrize("lang", list(Lang))
def test_every_page_in_every_language(app: FastAPI, sessions: sessionmaker[Session], lang: Lang) -> None:
    with sessions() as s, s.begin():
        cid = make_controller(s)
    publish_policy(sessions, cid, "1.0")
    publish_policy(sessions, cid, "2.0", extra_purpose=True, effective="2024-06-01")
    publish_policy(sessions, cid, "3.0", extra_purpose=True, effective="2999-01-01")
    missing = app.state.ui.catalogues.missing
    missing.clear()
    pages: list[str] = []

    anonymous = browser(app, lang=lang.value)
    pages.append(anonymous.get("/admin/sign-in").text)
    pages += [anonymous.get(f"/center/{cid}{p}").text for p in CENTER_PAGES]
    pages.append(anonymous.get("/center/nobody-here").text)

    enrolling = browser(app, lang=lang.value)
    fresh = make_staff(sessions, cid, "viewer", enrolled=False)
    post_form(enrolling, "/admin/sign-in", "/admin/sign-in",
              {"controller": cid, "email": fresh.email, "password": fresh.password})
    enrol = enrolling.get("/admin/sign-in/enrol")
    pages.append(enrol.text)
    pages.append(enrolling.post("/admin/sign-in/enrol", data={"csrf": csrf_of(enrol.text), "code": "1"}).text)

    locked = browser(app, lang=lang.value)
    for _ in range(5):
        pages.append(post_form(locked, "/admin/sign-in", "/admin/sign-in",
                               {"controller": cid, "email": fresh.email, "password": "nope nope nope"}).text)

    officer = browser(app, lang=lang.value)
    account = make_staff(sessions, cid, "admin")
    post_form(officer, "/admin/sign-in", "/admin/sign-in",
              {"controller": cid, "email": account.email, "password": account.password})
    pages.append(officer.get("/admin/sign-in/code").text)
    pages.append(post_form(officer, "/admin/sign-in/code", "/admin/sign-in/code", {"code": "x"}).text)
    sign_in(officer, account)
    for path, status in ADMIN_PAGES:
        r = officer.get(path)
        assert r.status_code == status, path
        pages.append(r.text)
    pages.append(post_form(officer, "/admin/audit", "/admin/audit/verify").text)
    pages.append(post_form(officer, "/admin/staff", "/admin/staff", {"email": "x@y.example", "role": "viewer"}).text)
    pages.append(post_form(officer, "/admin/staff", "/admin/staff", {"email": "not-an-email", "role": "viewer"}).text)
    pages.append(post_form(officer, "/admin/policies", "/admin/policies", files={
        "policy": ("p.yaml", b"schema: charter.policy/v1\nversion: 1\n", "application/yaml")}).text)
    pages.append(officer.post("/admin/audit/verify", data={"csrf": "bad"}).text)

    assert not missing, f"untranslated in {lang.value}: {sorted(m for _, m in missing)}"
    for html in pages:
        assert f'<html lang="{lang.value}">' in html
    if lang is not Lang.EN:
        assert not any("Privacy policy" in html or "Sign out" in html for html in pages)
