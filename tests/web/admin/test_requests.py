"""The request queue over HTTP: filters, a request's plan, refusing with an enumerated ground (which the person
then reads in the privacy centre), approving, manual tasks; viewers cannot act; other controllers' requests are
not found."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from charter.audit.models import AuditEvent
from charter.core.crypto import Keyring
from charter.requests.staff import StaffDesk
from tests.factories import make_controller, make_staff, publish_policy
from tests.requests.world import ANN_EMAIL, World, shop_world
from tests.web.center.test_personal import signed_in
from tests.web.pages import browser, csrf_of, post_form, sign_in


@pytest.fixture
def world(app: FastAPI, sessions: sessionmaker[Session], keyring: Keyring, tmp_path: Path) -> Iterator[World]:
    queue = app.state.request_queue
    with shop_world(sessions, keyring, tmp_path) as w:
        app.state.request_queue = w.worker
        with sessions() as s, s.begin():
            StaffDesk(s, keyring).set_needs_approval(w.cid, True, actor="test")
        try:
            yield w
        finally:
            app.state.request_queue = queue


def _submit(world: World, kind: str = "erasure") -> str:
    with world.sessions() as s, s.begin():
        submitted = world.service(s).submit_for_subject(
            world.cid, world.ann, kind=kind, identity_kind="email", identity_value=ANN_EMAIL, language="en",
            verified_by="center-code", actor="test")
        return submitted.request.id


def test_refuse_with_a_ground_and_the_person_reads_it(app: FastAPI, world: World) -> None:
    request_id = _submit(world)
    officer = make_staff(world.sessions, world.cid, "operator")
    client = browser(app, lang="en")
    sign_in(client, officer)
    queue = client.get("/admin/requests?kind=erasure&status=identity_verified")
    assert request_id in queue.text
    assert request_id not in client.get("/admin/requests?kind=access").text
    page = client.get(f"/admin/requests/{request_id}")
    assert "National security" in page.text or "national_security" in page.text
    r = client.post(f"/admin/requests/{request_id}/refuse", data={"csrf": csrf_of(page.text), "ground": "made_up"})
    assert r.status_code == 400  # only the enumerated grounds
    r = client.post(f"/admin/requests/{request_id}/refuse",
                    data={"csrf": csrf_of(page.text), "ground": "national_security"})
    assert r.status_code == 303
    assert "Refused" in client.get(f"/admin/requests/{request_id}").text
    person = signed_in(app, world)
    mine = person.get(f"/center/{world.cid}/requests").text
    assert "Refused because:" in mine
    with world.sessions() as s:
        reads = s.query(AuditEvent).filter(AuditEvent.controller_id == world.cid,
                                           AuditEvent.actor == f"staff:{officer.id}",
                                           AuditEvent.action == "personal_data.read").count()
    assert reads >= 2


def test_approve_runs_it_and_manual_tasks_finish_it(app: FastAPI, world: World) -> None:
    request_id = _submit(world, "access")
    operator = make_staff(world.sessions, world.cid, "operator")
    client = browser(app, lang="en")
    sign_in(client, operator)
    r = post_form(client, f"/admin/requests/{request_id}", f"/admin/requests/{request_id}/approve")
    assert r.status_code == 303
    assert world.worker.wait_idle(30)
    page = client.get(f"/admin/requests/{request_id}").text
    assert "Manual tasks" in page and "retrieve" in page
    manual_id = page.split("/admin/requests/manual/")[1].split("/")[0]
    r = post_form(client, f"/admin/requests/{request_id}", f"/admin/requests/manual/{manual_id}/complete",
                  {"rows_affected": "1"})
    assert r.status_code == 303
    assert world.worker.wait_idle(30)
    assert "Done" in client.get(f"/admin/requests/{request_id}").text


def test_a_viewer_sees_but_cannot_approve(app: FastAPI, world: World) -> None:
    request_id = _submit(world)
    viewer = make_staff(world.sessions, world.cid, "viewer")
    client = browser(app, lang="en")
    sign_in(client, viewer)
    page = client.get(f"/admin/requests/{request_id}")
    assert page.status_code == 200 and 'id="approve"' not in page.text
    r = client.post(f"/admin/requests/{request_id}/approve", data={"csrf": csrf_of(page.text)})
    assert r.status_code == 403
    r = client.post(f"/admin/requests/{request_id}/refuse", data={"csrf": csrf_of(page.text),
                                                                  "ground": "national_security"})
    assert r.status_code == 403


def test_another_controllers_request_is_not_found(app: FastAPI, world: World) -> None:
    request_id = _submit(world)
    with world.sessions() as s, s.begin():
        theirs = make_controller(s)
    publish_policy(world.sessions, theirs)
    stranger = make_staff(world.sessions, theirs, "admin")
    client = browser(app, lang="en")
    sign_in(client, stranger)
    assert client.get(f"/admin/requests/{request_id}").status_code == 404
    assert request_id not in client.get("/admin/requests").text
    token = csrf_of(client.get("/admin/requests").text)
    assert client.post(f"/admin/requests/{request_id}/approve", data={"csrf": token}).status_code == 404
