"""The support desk and the consent-based uses: nothing leaves Landups, no survey is sent, no recommendation or
analytics happens unless Charter says yes — and while it is not connected, it never does."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select

from charter.devmail import DevMail
from landups.db import unit_of_work
from landups.models import (
    AnalyticsEvent,
    CharterCall,
    CloudOrder,
    DataRead,
    OfflineDelivery,
    RealNameRecord,
    SurveyInvitation,
    User,
)
from landups.settings import Settings
from landups.web.app import create_app
from landups.web.context import AppState
from tests.examples.landups.conftest import ScriptedCharter
from tests.examples.landups.factories import photo_bytes, post, real_name_form, register

SOON = (date.today() + timedelta(days=10)).isoformat()


def _user(state: AppState, email: str) -> User:
    with unit_of_work(state.factory) as session:
        return session.scalars(select(User).where(User.email == email)).one()


def _delivery_request(web: TestClient, state: AppState) -> tuple[User, int]:
    user = _user(state, register(web))
    post(web, "/market/order", {"sku": "dm.100", "term_months": "1", "quantity": "1", "contact_person": "Ms Lee",
                                "contact_info": "lee@example.com"}, form_page="/market")
    with unit_of_work(state.factory) as session:
        order_id = session.scalars(select(OfflineDelivery.id).where(OfflineDelivery.user_id == user.id)).first()
        assert order_id is None
        order = session.scalars(select(CloudOrder.id).where(CloudOrder.user_id == user.id)).one()
    response = post(web, "/delivery", {"order_id": str(order), "contact_person": "Ms Lee",
                                       "contact_info": "9123 4567", "address": "Tsuen Wan", "preferred_date": SOON})
    assert response.status_code == 303
    with unit_of_work(state.factory) as session:
        return user, session.scalars(select(OfflineDelivery.id).where(OfflineDelivery.user_id == user.id)).one()


def test_not_connected_nothing_is_handed_over(web: TestClient, landups_app: object, state: AppState,
                                              staff_login: Callable[[TestClient], str]) -> None:
    user, delivery_id = _delivery_request(web, state)
    desk = TestClient(landups_app, base_url="https://testserver", follow_redirects=False)  # type: ignore[arg-type]
    staff_login(desk)
    page = desk.get("/staff")
    assert "Charter is not connected" in page.text and f'data-id="{delivery_id}"' in page.text
    refused = post(desk, "/staff/handover", {"table": "offline_deliveries", "record_id": str(delivery_id)},
                   form_page="/staff")
    assert refused.status_code == 409 and "charter_not_connected" in refused.text
    with unit_of_work(state.factory) as session:
        assert session.get(OfflineDelivery, delivery_id).status == "requested"  # type: ignore[union-attr]
        assert session.scalar(select(func.count()).select_from(CharterCall).where(
            CharterCall.user_id == user.id, CharterCall.kind == "report_disclosure")) == 0


def test_handover_allowed_by_charter_is_reported_as_a_disclosure(
        wired: TestClient, wired_app: object, state: AppState, charter: ScriptedCharter,
        staff_login: Callable[[TestClient], str]) -> None:
    user, delivery_id = _delivery_request(wired, state)
    charter.shares.add(("contractor-example", "offline_delivery"))
    desk = TestClient(wired_app, base_url="https://testserver", follow_redirects=False)  # type: ignore[arg-type]
    staff_login(desk)
    done = post(desk, "/staff/handover", {"table": "offline_deliveries", "record_id": str(delivery_id)},
                form_page="/staff")
    assert done.status_code == 303
    with unit_of_work(state.factory) as session:
        assert session.get(OfflineDelivery, delivery_id).status == "dispatched"  # type: ignore[union-attr]
        call = session.scalars(select(CharterCall).where(CharterCall.user_id == user.id,
                                                         CharterCall.kind == "report_disclosure")).one()
    body = json.loads(call.payload)
    assert (body["recipient"], body["purpose"], body["record"]) == (
        "contractor-example", "offline_delivery", f"offline_deliveries:{delivery_id}")
    assert body["categories"] == ["order.contact_person", "order.contact_info", "order.delivery_address",
                                  "order.details"]
    assert post(desk, "/staff/complete", {"table": "offline_deliveries", "record_id": str(delivery_id)},
                form_page="/staff").status_code == 303
    assert "Delivered" in wired.get("/orders").text


def test_surveys_only_while_charter_allows(wired: TestClient, wired_app: object, landups_app: object,
                                           state: AppState, charter: ScriptedCharter,
                                           staff_login: Callable[[TestClient], str]) -> None:
    yes = _user(state, register(wired, consents=("surveys",)))
    no = TestClient(wired_app, base_url="https://testserver", follow_redirects=False)  # type: ignore[arg-type]
    refuser = _user(state, register(no))
    charter.uses.add((yes.account_id, "surveys"))

    unwired_desk = TestClient(landups_app, base_url="https://testserver", follow_redirects=False)  # type: ignore[arg-type]
    staff_login(unwired_desk)
    run = post(unwired_desk, "/staff/surveys", {"survey": "support-2024"}, form_page="/staff")
    assert "Invitations sent: 0." in run.text          # not connected: deny by default, nobody is invited

    desk = TestClient(wired_app, base_url="https://testserver", follow_redirects=False)  # type: ignore[arg-type]
    staff_login(desk)
    run = post(desk, "/staff/surveys", {"survey": "console-2024"}, form_page="/staff")
    assert run.status_code == 200
    with unit_of_work(state.factory) as session:
        invited = set(session.scalars(
            select(SurveyInvitation.user_id).where(SurveyInvitation.survey == "console-2024")))
        assert yes.id in invited and refuser.id not in invited
        assert session.scalar(select(func.count()).select_from(SurveyInvitation)
                              .where(SurveyInvitation.survey == "support-2024")) == 0
    assert "How do you find the Landups console?" in wired.get("/console").text
    assert "How do you find" not in no.get("/console").text

    # withdrawal: reported to Charter, and once Charter says no the invitation is gone and none is sent again
    withdrawn = post(wired, "/account/privacy", {"purpose": "surveys", "choice": "withdraw"})
    assert withdrawn.status_code == 303
    with unit_of_work(state.factory) as session:
        last = session.scalars(select(CharterCall).where(CharterCall.user_id == yes.id)
                               .order_by(CharterCall.id.desc())).first()
        assert last is not None and last.kind == "withdraw" and json.loads(last.payload)["purpose"] == "surveys"
    charter.uses.discard((yes.account_id, "surveys"))
    assert "How do you find" not in wired.get("/console").text
    with unit_of_work(state.factory) as session:
        session.execute(delete(SurveyInvitation).where(SurveyInvitation.user_id == yes.id))
    post(desk, "/staff/surveys", {"survey": "console-2024"}, form_page="/staff")
    with unit_of_work(state.factory) as session:
        assert session.scalar(select(func.count()).select_from(SurveyInvitation)
                              .where(SurveyInvitation.user_id == yes.id)) == 0


def test_survey_invitations_are_mailed_in_each_persons_language_only_while_allowed(
        landups_settings: Settings, state: AppState, staff_login: Callable[[TestClient], str]) -> None:
    scripted = ScriptedCharter()
    with DevMail(web_port=None) as mail:
        app = create_app(replace(landups_settings, smtp_host="127.0.0.1", smtp_port=mail.smtp_port,
                                 base_url="https://console.landups.example"), gateway=scripted)
        try:
            person = TestClient(app, base_url="https://testserver", follow_redirects=False)
            yes = _user(state, register(person, consents=("surveys",), language="zh-TW", name="陳大文"))
            no = _user(state, register(TestClient(app, base_url="https://testserver", follow_redirects=False)))
            scripted.uses.add((yes.account_id, "surveys"))
            desk = TestClient(app, base_url="https://testserver", follow_redirects=False)
            staff_login(desk)

            run = post(desk, "/staff/surveys", {"survey": "console-2024"}, form_page="/staff")
            assert run.status_code == 200 and "Invitations sent: 1." in run.text
            assert [m.rcpt_tos for m in mail.messages] == [[yes.email]]   # sent once the response was
            letter = mail.messages[0]
            assert letter.subject == "Landups 調查邀請：您覺得 Landups 控制台好用嗎？（5 分鐘）"
            assert letter.header("Content-Language") == "zh-TW"
            assert "陳大文" in letter.text and "https://console.landups.example/account/privacy" in letter.text
            assert no.email not in str([m.rcpt_tos for m in mail.messages])

            # withdrawn (Charter now says no): the next run mails no one, and the count says why
            assert post(person, "/account/privacy", {"purpose": "surveys", "choice": "withdraw"}).status_code == 303
            scripted.uses.discard((yes.account_id, "surveys"))
            run = post(desk, "/staff/surveys", {"survey": "support-2024"}, form_page="/staff")
            assert "Invitations sent: 0." in run.text
            assert len(mail.messages) == 1
        finally:
            app.state.landups.engine.dispose()


def test_recommendations_and_analytics_only_with_consent(wired: TestClient, state: AppState,
                                                         charter: ScriptedCharter) -> None:
    user = _user(state, register(wired))
    post(wired, "/market/order", {"sku": "ecs.s1", "term_months": "1", "quantity": "1", "contact_person": "Ms Lee",
                                  "contact_info": "lee@example.com"}, form_page="/market")
    with unit_of_work(state.factory) as session:
        before = session.scalar(select(func.count()).select_from(AnalyticsEvent)) or 0
    page = wired.get("/console")
    assert 'id="recommendations"' not in page.text
    charter.uses |= {(user.account_id, "recommendations"), (user.account_id, "optimisation")}
    page = wired.get("/console")
    assert 'id="recommendations"' in page.text and "Managed MariaDB M2" in page.text
    with unit_of_work(state.factory) as session:
        assert (session.scalar(select(func.count()).select_from(AnalyticsEvent)) or 0) == before + 1
        assert "user_id" not in AnalyticsEvent.__table__.columns   # the purpose names no identifier


def test_privacy_page_with_charter_connected(wired: TestClient, charter: ScriptedCharter) -> None:
    register(wired)
    page = wired.get("/account/privacy")
    assert 'id="not-connected"' not in page.text
    assert '<script src="https://charter.example/static/charter-consent.js" data-key="pk_test_landups"' in page.text
    # The page links to Landups' own route; the signed link is minted only when the person clicks it.
    assert 'href="/account/privacy-centre"' in page.text and "token=" not in page.text
    assert 'href="/account/privacy-centre"' in wired.get("/console").text
    before = charter.links_minted
    opened = wired.get("/account/privacy-centre")
    assert opened.status_code == 303
    minted = f"https://charter.example/center/landups/enter?token=signed-{before + 1}&lang=en"
    assert opened.headers["location"] == minted
    assert charter.links_minted == before + 1


def test_privacy_centre_link_needs_a_login_and_charter(web: TestClient, wired: TestClient,
                                                      charter: ScriptedCharter) -> None:
    assert wired.get("/account/privacy-centre").headers["location"] == "/login"   # no one signed in
    register(web)
    page = web.get("/account/privacy-centre")   # not connected: no link, and the page says why
    assert page.status_code == 503 and 'id="centre-unavailable"' in page.text and "charter.example" not in page.text
    register(wired)
    charter.centre_down = True
    try:
        page = wired.get("/account/privacy-centre")   # connected, but Charter does not answer
    finally:
        charter.centre_down = False
    assert page.status_code == 503 and 'id="centre-unavailable"' in page.text


def test_privacy_page_without_charter_says_so(web: TestClient) -> None:
    register(web, consents=("recommendations",))
    page = web.get("/account/privacy")
    assert 'id="not-connected"' in page.text and 'id="centre-pending"' in page.text
    assert "<script" not in page.text   # no banner tag until it is wired; no script of our own either
    row = page.text.split('data-purpose="recommendations"')[1].split("</tr>")[0]
    assert "Not in use" in row and "Agreed" in row


def test_staff_reads_are_recorded_with_a_reason(web: TestClient, landups_app: object, state: AppState,
                                                staff_login: Callable[[TestClient], str]) -> None:
    email = register(web)
    post(web, "/real-name", real_name_form(), files={"id_photo": ("id.jpg", photo_bytes(), "image/jpeg")})
    user = _user(state, email)
    desk = TestClient(landups_app, base_url="https://testserver", follow_redirects=False)  # type: ignore[arg-type]
    staff_email = staff_login(desk)
    no_reason = post(desk, "/staff/users", {"query": user.account_id, "reason": ""}, form_page="/staff")
    assert no_reason.status_code == 400
    found = post(desk, "/staff/users", {"query": email, "reason": "ticket 4411: billing question"},
                 form_page="/staff")
    assert found.status_code == 200 and user.account_id in found.text
    with unit_of_work(state.factory) as session:
        record_id = session.scalars(select(DataRead.id).where(DataRead.user_id == user.id)).first()
        assert record_id is not None
        real_name = session.scalars(select(RealNameRecord).where(RealNameRecord.user_id == user.id)).one()
    review = desk.get(f"/staff/real-name/{real_name.id}")
    assert review.status_code == 200 and "A******(3)" in review.text and "A123456(3)" not in review.text
    refused = post(desk, f"/staff/real-name/{real_name.id}/photo", {"reason": ""}, form_page="/staff")
    assert refused.status_code == 303
    photo = post(desk, f"/staff/real-name/{real_name.id}/photo", {"reason": "real-name review #88"},
                 form_page="/staff")
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    assert post(desk, f"/staff/real-name/{real_name.id}/review", {"decision": "approve"},
                form_page="/staff").status_code == 303
    with unit_of_work(state.factory) as session:
        reads = session.scalars(select(DataRead).where(DataRead.user_id == user.id).order_by(DataRead.id)).all()
        assert [(r.reader, r.record.split(":")[0], r.reason) for r in reads] == [
            ("staff", "users", "ticket 4411: billing question"),
            ("staff", "real_name_records", "real-name review"),
            ("staff", "id_photos", "real-name review #88")]
        assert all(r.staff_id is not None for r in reads)
    assert "Verified" in web.get("/real-name").text
    assert staff_email.endswith("@landups.example")


def test_staff_pages_need_a_staff_login(web: TestClient) -> None:
    register(web)   # a user is not staff
    assert web.get("/staff").headers["location"] == "/staff/login"
