"""Handling appeals of automated decisions in the admin console: a person appeals in the privacy centre, staff read
the decision's inputs, logic and outcome with the person's statement (an audited read), an operator records the
review with reasons, and the person reads it in the centre. Viewers cannot decide; forms need their token; another
controller's appeal is not found."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from charter.audit.models import AuditEvent
from charter.core.db import transaction
from charter.core.i18n import Lang, Text
from charter.outbox.services import Outbox
from charter.requests.automated import AutomatedDecisions
from charter.requests.models import Appeal, DataRequest
from tests.factories import make_controller, make_staff, publish_policy
from tests.requests.world import ANN_EMAIL, World
from tests.web.center.test_personal import signed_in
from tests.web.pages import browser, csrf_of, post_form, sign_in

STATEMENT = "I ordered twice last year <b>really</b>; see my account."


def appealed(app: FastAPI, world: World) -> tuple[TestClient, int]:
    """Ann asks the centre to explain an automated decision, then appeals it; (her browser, the appeal id)."""
    with transaction(world.sessions) as s:
        decision = AutomatedDecisions(s, world.keyring).record(
            world.cid, world.ann, kind="credit_limit", logic_version="2024.3", outcome="declined",
            inputs={"orders_last_year": 1, "account_age_days": 40},
            explanation=Text(zh="去年订单太少", en="Too few orders last year"), actor="test").id
    person = signed_in(app, world)
    center = f"/center/{world.cid}"
    r = post_form(person, f"{center}/requests", f"{center}/requests", {"kind": "explanation",
                                                                        "decision_id": decision})
    assert r.status_code == 303, r.text
    assert world.worker.wait_idle(30)
    with world.sessions() as s:
        request_id = s.query(DataRequest.id).filter(DataRequest.controller_id == world.cid,
                                                    DataRequest.kind == "explanation").scalar()
    r = post_form(person, f"{center}/requests", f"{center}/requests/{request_id}/appeal", {"statement": STATEMENT})
    assert r.status_code == 303, r.text
    page = person.get(f"{center}/requests?appealed=1").text
    assert "Your appeal is waiting for a person to review the decision." in page
    assert 'action="/center/' + world.cid + f'/requests/{request_id}/appeal"' not in page  # asked once only
    with world.sessions() as s:
        appeal_id = s.query(Appeal.id).filter(Appeal.request_id == request_id).scalar()
    return person, int(appeal_id)


def staff(app: FastAPI, world: World, role: str, lang: str = "en") -> tuple[TestClient, int]:
    account = make_staff(world.sessions, world.cid, role)
    client = browser(app, lang=lang)
    sign_in(client, account)
    return client, account.id


def test_an_operator_overturns_with_reasons_and_the_person_reads_them(app: FastAPI, world: World) -> None:
    person, appeal_id = appealed(app, world)
    operator, operator_id = staff(app, world, "operator")
    queue = operator.get("/admin/appeals")
    assert queue.status_code == 200 and f'href="/admin/appeals/{appeal_id}"' in queue.text
    assert "credit_limit" in queue.text and STATEMENT not in queue.text  # the queue shows no statement

    case = operator.get(f"/admin/appeals/{appeal_id}")
    assert case.status_code == 200
    for shown in ("credit_limit", "2024.3", "declined", "orders_last_year", "account_age_days",
                  "Too few orders last year", "I ordered twice last year &lt;b&gt;really&lt;/b&gt;"):
        assert shown in case.text, shown
    assert "<b>really</b>" not in case.text
    token = csrf_of(case.text)
    url = f"/admin/appeals/{appeal_id}/decide"
    no_outcome = operator.post(url, data={"csrf": token, "note": "Reviewed."})
    assert no_outcome.status_code == 400 and "Choose whether the decision is upheld or overturned." in no_outcome.text
    no_reason = operator.post(url, data={"csrf": token, "outcome": "overturned", "note": "   "})
    assert no_reason.status_code == 400 and "Write the reasons for your review" in no_reason.text
    assert 'value="overturned" checked' in no_reason.text  # the choice is kept while the reasons are written
    assert operator.post(url, data={"outcome": "overturned", "note": "x"}).status_code == 403  # no form token
    with world.sessions() as s:
        assert s.get(Appeal, appeal_id).status == "open"  # type: ignore[union-attr]

    reasons = "A reviewer found two orders in the archive; the limit is granted."
    decided = operator.post(url, data={"csrf": token, "outcome": "overturned", "note": reasons})
    assert decided.status_code == 303 and decided.headers["location"] == f"/admin/appeals/{appeal_id}"
    shown = operator.get(f"/admin/appeals/{appeal_id}").text
    assert "Overturned" in shown and reasons in shown and 'id="decide"' not in shown
    again = operator.post(url, data={"csrf": csrf_of(shown), "outcome": "upheld", "note": "Changed my mind."})
    assert again.status_code == 409
    assert f'href="/admin/appeals/{appeal_id}"' not in operator.get("/admin/appeals").text  # no longer open
    assert f'href="/admin/appeals/{appeal_id}"' in operator.get("/admin/appeals?status=overturned").text
    assert operator.get("/admin/appeals?status=maybe").status_code == 400

    with world.sessions() as s:
        resolved = s.query(AuditEvent).filter(AuditEvent.controller_id == world.cid,
                                              AuditEvent.action == "appeal.resolved").one()
        assert resolved.actor == f"staff:{operator_id}" and resolved.data == {"outcome": "overturned"}
        reads = s.query(AuditEvent).filter(AuditEvent.controller_id == world.cid,
                                           AuditEvent.action == "personal_data.read",
                                           AuditEvent.target == f"appeal:{appeal_id}").all()
        assert reads and {r.actor for r in reads} == {f"staff:{operator_id}"}
        assert "statement" in reads[0].data["fields"] and "decision.inputs" in reads[0].data["fields"]
        # the person is told by mail too, with the outcome and the reviewer's reasons
        outbox = Outbox(s, app.state.keyring)
        [told] = [m for m in outbox.messages(world.cid) if m.template == "appeal_resolved"]
        mail = outbox.content(told)
        assert outbox.recipient(told) == ANN_EMAIL
        assert "overturned" in mail.text and reasons in mail.text

    answer = person.get(f"/center/{world.cid}/requests").text
    assert "A person reviewed the decision and overturned it." in answer and reasons in answer
    assert 'data-appeal="overturned"' in answer


def test_a_viewer_reads_but_cannot_decide(app: FastAPI, world: World) -> None:
    _person, appeal_id = appealed(app, world)
    viewer, viewer_id = staff(app, world, "viewer")
    case = viewer.get(f"/admin/appeals/{appeal_id}")
    assert case.status_code == 200 and "orders_last_year" in case.text
    assert 'id="decide"' not in case.text and "Your role can read appeals but not decide them." in case.text
    r = viewer.post(f"/admin/appeals/{appeal_id}/decide",
                    data={"csrf": csrf_of(case.text), "outcome": "upheld", "note": "Looks right."})
    assert r.status_code == 403
    with world.sessions() as s:
        assert s.get(Appeal, appeal_id).status == "open"  # type: ignore[union-attr]
        reads = s.query(AuditEvent).filter(AuditEvent.controller_id == world.cid,
                                           AuditEvent.action == "personal_data.read",
                                           AuditEvent.actor == f"staff:{viewer_id}").all()
        assert {r.target for r in reads} == {f"appeal:{appeal_id}"}


def test_an_upheld_decision_is_told_as_upheld(app: FastAPI, world: World) -> None:
    person, appeal_id = appealed(app, world)
    officer, _ = staff(app, world, "privacy_officer")
    case = officer.get(f"/admin/appeals/{appeal_id}")
    r = officer.post(f"/admin/appeals/{appeal_id}/decide",
                     data={"csrf": csrf_of(case.text), "outcome": "upheld", "note": "The archive has one order."})
    assert r.status_code == 303
    answer = person.get(f"/center/{world.cid}/requests").text
    assert "A person reviewed the decision and upheld it." in answer and "The archive has one order." in answer


def test_another_controllers_appeal_is_not_found(app: FastAPI, world: World) -> None:
    _person, appeal_id = appealed(app, world)
    with world.sessions() as s, s.begin():
        theirs = make_controller(s)
    publish_policy(world.sessions, theirs)
    stranger = browser(app, lang="en")
    sign_in(stranger, make_staff(world.sessions, theirs, "admin"))
    assert stranger.get(f"/admin/appeals/{appeal_id}").status_code == 404
    assert f"/admin/appeals/{appeal_id}" not in stranger.get("/admin/appeals?status=all").text
    page = stranger.get("/admin/appeals")
    r = stranger.post(f"/admin/appeals/{appeal_id}/decide",
                      data={"csrf": csrf_of(page.text), "outcome": "overturned", "note": "Not mine."})
    assert r.status_code == 404
    with world.sessions() as s:
        assert s.get(Appeal, appeal_id).status == "open"  # type: ignore[union-attr]


@pytest.mark.parametrize("lang", list(Lang))
def test_the_appeal_pages_in_every_language(app: FastAPI, world: World, lang: Lang) -> None:
    person, appeal_id = appealed(app, world)
    missing = app.state.ui.catalogues.missing
    missing.clear()
    operator, _ = staff(app, world, "operator", lang=lang.value)
    viewer, _ = staff(app, world, "viewer", lang=lang.value)
    case = operator.get(f"/admin/appeals/{appeal_id}")
    pages = [operator.get("/admin/appeals"), operator.get("/admin/appeals?status=all"), case,
             viewer.get(f"/admin/appeals/{appeal_id}"),
             operator.post(f"/admin/appeals/{appeal_id}/decide", data={"csrf": csrf_of(case.text), "note": "x"})]
    operator.post(f"/admin/appeals/{appeal_id}/decide",
                  data={"csrf": csrf_of(case.text), "outcome": "upheld", "note": "Stands."})
    pages.append(operator.get(f"/admin/appeals/{appeal_id}"))
    person.cookies.set("lang", lang.value)
    pages.append(person.get(f"/center/{world.cid}/requests"))
    assert [p.status_code for p in pages] == [200, 200, 200, 200, 400, 200, 200]
    assert all(f'<html lang="{lang.value}">' in p.text for p in pages)
    assert not missing, sorted(m for _, m in missing)

