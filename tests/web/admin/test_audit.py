"""The audit log viewer: newest first, paged, and a button that verifies the chain."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from charter.audit.models import AuditEvent
from charter.audit.services import AuditLog
from tests.factories import make_controller, make_staff
from tests.web.pages import post_form, sign_in


def _officer(web: TestClient, sessions: sessionmaker[Session], events: int = 0) -> str:
    with sessions() as s, s.begin():
        cid = make_controller(s)
        for n in range(events):
            AuditLog(s).record(cid, actor="test", action="thing.done", target=f"thing:{n}")
    sign_in(web, make_staff(sessions, cid, "privacy_officer"))
    web.cookies.set("lang", "en")
    return cid


def test_the_log_is_paged_newest_first(web: TestClient, sessions: sessionmaker[Session]) -> None:
    _officer(web, sessions, events=60)
    first = web.get("/admin/audit").text
    assert "staff.signed_in" in first
    assert "thing:59" in first
    assert "thing:5<" not in first
    assert "/admin/audit?before=" in first
    older_link = first.split('href="/admin/audit?before=')[1].split('"')[0]
    older = web.get(f"/admin/audit?before={older_link}").text
    assert "thing:5<" in older
    assert "controller.created" in older
    assert "thing:59" not in older


def test_verify_says_intact_then_where_it_broke(web: TestClient, sessions: sessionmaker[Session]) -> None:
    cid = _officer(web, sessions, events=3)
    r = post_form(web, "/admin/audit", "/admin/audit/verify")
    assert r.status_code == 200
    assert "Intact:" in r.text
    with sessions() as s, s.begin():
        s.execute(update(AuditEvent).where(AuditEvent.controller_id == cid, AuditEvent.seq == 2)
                  .values(target="thing:forged"))
    r = post_form(web, "/admin/audit", "/admin/audit/verify")
    assert "Broken at event 2." in r.text
    assert "altered" in r.text
