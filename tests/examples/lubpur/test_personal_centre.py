"""The personal centre: account information, purchase requests (LUB-THIRD-PARTY-INFO), consultation with a staff
account, points, privacy choices."""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from lubpur import purchases
from lubpur.models import ConsultationMessage, PointsTransaction, PurchaseRequest
from tests.examples.lubpur.factories import count, post, register, staff_login, unique_email, user_by_email

PROFILE = {"name": "王建国", "phone": "", "wechat": "wjg_lube", "qq": "123456789", "address": "上海市浦东新区张江路1号",
           "company": "上海某机械有限公司", "company_address": "上海市闵行区莘庄工业区", "position": "设备主管"}


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (11, 93, 143)).save(buf, format="PNG")
    return buf.getvalue()


def test_account_information_is_editable_and_completing_it_earns_points(web: TestClient, db: Session) -> None:
    form = register(web)
    response = post(web, "/me", {**PROFILE, "phone": form["phone"]})
    assert "50" in response.text
    user = user_by_email(db, form["email"])
    assert (user.wechat, user.qq, user.position, user.company_address) == ("wjg_lube", "123456789", "设备主管",
                                                                           "上海市闵行区莘庄工业区")
    post(web, "/me", {**PROFILE, "phone": form["phone"], "position": "采购经理"})
    assert count(db, PointsTransaction, PointsTransaction.user_id == user.id,
                 PointsTransaction.reason == "profile_complete") == 1
    page = web.get("/me/points").text
    assert "完善资料" in page and "注册奖励" in page and 'id="points-balance">150<' in page


@pytest.mark.parametrize(("field", "value"), [("qq", "abc"), ("phone", "999"), ("name", ""), ("position", "x" * 101)])
def test_bad_account_information_is_refused_and_nothing_changes(web: TestClient, db: Session, field: str,
                                                                 value: str) -> None:
    form = register(web)
    response = post(web, "/me", {**PROFILE, "phone": form["phone"], field: value})
    assert response.status_code == 400
    user = user_by_email(db, form["email"])
    assert (user.name, user.wechat) == ("王工", "")


def test_avatar_upload_takes_only_real_pictures(web: TestClient, db: Session) -> None:
    form = register(web)
    bad = post(web, "/me/avatar", files={"avatar": ("a.png", b"<?php evil ?>", "image/png")})
    assert bad.status_code == 400
    big = post(web, "/me/avatar", files={"avatar": ("a.png", b"\x89PNG" + b"0" * 1_100_000, "image/png")})
    assert big.status_code == 400
    assert user_by_email(db, form["email"]).avatar is None
    ok = post(web, "/me/avatar", files={"avatar": ("me.png", _png(), "image/png")})
    assert ok.status_code == 200
    served = web.get("/me/avatar")
    assert served.headers["content-type"] == "image/png" and served.content == _png()


def _purchase(**overrides: str) -> dict[str, str]:
    form = {"product_id": "3", "product_text": "", "quantity": "4", "unit": "drum", "delivery_city": "苏州",
            "message": "请报含税价", "contact_name": "", "contact_phone": "", "contact_email": "",
            "contact_company": ""}
    form.update(overrides)
    return form


def test_a_purchase_request_with_my_own_contact(web: TestClient, db: Session) -> None:
    form = register(web)
    response = post(web, "/me/purchases/new", _purchase(contact_name="王工", contact_phone=form["phone"],
                                                        contact_email=form["email"]), csrf_from="/me/purchases/new")
    assert response.url.path == "/me/purchases"
    user = user_by_email(db, form["email"])
    request = db.scalars(select(PurchaseRequest).where(PurchaseRequest.user_id == user.id)).one()
    assert (request.quantity, request.is_contact_third_party, request.third_party_attested_at) == (4, False, None)
    assert "苏州" not in response.text and request.product_text in response.text
    assert count(db, PointsTransaction, PointsTransaction.user_id == user.id,
                 PointsTransaction.reason == "purchase_request") == 1


def test_someone_elses_contact_needs_the_attestation(web: TestClient, db: Session) -> None:
    form = register(web)
    buyer = unique_email("buyer")
    details = _purchase(contact_name="赵采购", contact_phone="13912345678", contact_email=buyer)
    refused = post(web, "/me/purchases/new", details, csrf_from="/me/purchases/new")
    assert refused.status_code == 400
    assert "授权" in refused.text
    user = user_by_email(db, form["email"])
    assert count(db, PurchaseRequest, PurchaseRequest.user_id == user.id) == 0
    post(web, "/me/purchases/new", {**details, "third_party_attested": "yes"}, csrf_from="/me/purchases/new")
    request = db.scalars(select(PurchaseRequest).where(PurchaseRequest.user_id == user.id)).one()
    assert request.is_contact_third_party and request.third_party_attested_at is not None
    # The other person's own request finds what was given about them.
    found = purchases.about_contact(db, email=buyer)
    assert [r.id for r in found] == [request.id]
    assert [r.id for r in purchases.about_contact(db, phone="+8613912345678")][-1] == request.id


@pytest.mark.parametrize(("field", "value"), [("quantity", "0"), ("quantity", "many"), ("unit", "barrel"),
                                              ("delivery_city", ""), ("product_id", "999999"),
                                              ("contact_phone", "1")])
def test_bad_purchase_requests_are_refused_and_nothing_is_stored(web: TestClient, db: Session, field: str,
                                                                 value: str) -> None:
    form = register(web)
    details = _purchase(**{"contact_name": "王工", "contact_phone": form["phone"], field: value})
    response = post(web, "/me/purchases/new", details, csrf_from="/me/purchases/new")
    assert response.status_code == 400
    user = user_by_email(db, form["email"])
    assert count(db, PurchaseRequest, PurchaseRequest.user_id == user.id) == 0


def test_purchase_requests_can_be_deleted_and_answered_by_staff(web: TestClient, db: Session) -> None:
    form = register(web)
    post(web, "/me/purchases/new", _purchase(contact_name="王工", contact_phone=form["phone"]),
         csrf_from="/me/purchases/new")
    user = user_by_email(db, form["email"])
    request_id = db.scalars(select(PurchaseRequest.id).where(PurchaseRequest.user_id == user.id)).one()
    staff = TestClient(web.app)
    staff_login(staff, db)
    post(staff, f"/staff/purchases/{request_id}", {"reply": "每桶 1850 元含税"}, csrf_from="/staff/purchases")
    assert "每桶 1850 元含税" in web.get("/me/purchases").text
    other = TestClient(web.app)
    register(other)
    assert post(other, f"/me/purchases/{request_id}/delete", csrf_from="/me/purchases").status_code == 404
    post(web, f"/me/purchases/{request_id}/delete", csrf_from="/me/purchases")
    assert count(db, PurchaseRequest, PurchaseRequest.id == request_id) == 0


def test_online_consultation_with_customer_service(web: TestClient, db: Session) -> None:
    register(web)
    started = post(web, "/me/consultations", {"subject": "HM 46 能否替代 HLP 46?", "body": "我们的注塑机用 HLP 46。"},
                   csrf_from="/me/consultations")
    path = started.url.path
    assert path.startswith("/me/consultations/")
    conv_id = int(path.rsplit("/", 1)[1])
    staff = TestClient(web.app)
    staff_login(staff, db)
    assert "HM 46 能否替代 HLP 46?" in staff.get("/staff").text
    post(staff, f"/staff/consultations/{conv_id}", {"body": "可以,两者均符合 DIN 51524-2。"},
         csrf_from=f"/staff/consultations/{conv_id}")
    thread = web.get(path).text
    assert "可以,两者均符合 DIN 51524-2。" in thread and "客服" in thread
    senders = db.scalars(select(ConsultationMessage.sender).where(ConsultationMessage.consultation_id == conv_id)
                         .order_by(ConsultationMessage.id)).all()
    assert senders == ["user", "staff"]
    empty = post(web, path, {"body": "  "}, csrf_from=path)
    assert empty.status_code == 400
    intruder = TestClient(web.app)
    register(intruder)
    assert intruder.get(path).status_code == 404


def test_staff_pages_need_a_staff_login(web: TestClient) -> None:
    register(web)
    assert web.get("/staff").url.path == "/staff/login"
    assert web.get("/staff/purchases").url.path == "/staff/login"


def test_the_personal_centre_needs_a_login(web: TestClient) -> None:
    for path in ("/me", "/me/purchases", "/me/favourites", "/me/footprints", "/me/consultations", "/me/points",
                 "/me/security", "/me/privacy", "/privacy-centre"):
        assert web.get(path).url.path == "/login", path


def test_the_privacy_centre_link_says_honestly_that_charter_is_not_connected(web: TestClient) -> None:
    register(web)
    page = web.get("/privacy-centre")
    assert page.status_code == 200 and 'id="centre-unavailable"' in page.text


