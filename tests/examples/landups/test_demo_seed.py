"""`landups.demo.prepare` (what `python -m landups seed` and `charter demo` run): the demo logins, made once with
the passwords given, the demo user's sign-up queued for Charter like any registration's."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import select

from landups import demo
from landups.db import unit_of_work
from landups.models import CharterCall, SiteAccount, StaffMember, User
from landups.web.context import AppState
from tests.examples.landups.factories import login, post


def test_prepare_makes_the_demo_logins_once(state: AppState, web: TestClient) -> None:
    made = demo.prepare(state, staff_password="staff-pass-1234", user_password="Demo-0a1b2c3d-7")
    assert [(m.login, m.password) for m in made if m.login != demo.SITE_USERNAME] == [
        (demo.STAFF_EMAIL, "staff-pass-1234"), (demo.USER_EMAIL, "Demo-0a1b2c3d-7")]
    again = demo.prepare(state, staff_password="another-pass-99", user_password="Another-99-pass")
    assert [m.password for m in again] == [None, None]   # nothing made twice, no password changed

    with unit_of_work(state.factory) as session:
        assert len(session.scalars(select(StaffMember).where(StaffMember.email == demo.STAFF_EMAIL)).all()) == 1
        assert session.scalars(select(SiteAccount).where(SiteAccount.username == demo.SITE_USERNAME)).one()
        user = session.scalars(select(User).where(User.email == demo.USER_EMAIL)).one()
        assert (user.language, user.policy_version) == ("zh-TW", state.policy.version)
        calls = session.scalars(select(CharterCall).where(CharterCall.user_id == user.id)
                                .order_by(CharterCall.id)).all()
    assert [c.kind for c in calls[:1]] == ["register"] and all(c.delivered_at is None for c in calls)
    choices = {json.loads(c.payload)["purpose"]: json.loads(c.payload)["action"] for c in calls
               if c.kind == "record_consent"}
    assert choices == {"surveys": "grant", "recommendations": "grant", "optimisation": "refuse"}

    assert login(web, demo.USER_EMAIL, "Demo-0a1b2c3d-7").headers["location"] == "/console"
    desk = TestClient(web.app, base_url="https://testserver", follow_redirects=False)
    signed_in = post(desk, "/staff/login", {"email": demo.STAFF_EMAIL, "password": "staff-pass-1234"})
    assert signed_in.headers["location"] == "/staff"
