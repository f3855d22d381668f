"""The optional features over HTTP: each collects only its purpose's fields, only when used, and bad input
stores nothing. Bank accounts are sealed and masked everywhere."""

from __future__ import annotations

import json
from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from landups.db import unit_of_work
from landups.models import (
    AccountLink,
    CharterCall,
    CloudOrder,
    MembershipApplication,
    OfflineDelivery,
    ProductTest,
    User,
    WebsiteFiling,
)
from landups.web.context import AppState
from tests.examples.landups.factories import PASSWORD, field_error, photo_bytes, post, register

SOON = (date.today() + timedelta(days=10)).isoformat()


def _user(state: AppState, email: str) -> User:
    with unit_of_work(state.factory) as session:
        return session.scalars(select(User).where(User.email == email)).one()


def _count(state: AppState, model: type, user_id: int) -> int:
    with unit_of_work(state.factory) as session:
        query = select(func.count()).select_from(model).where(model.user_id == user_id)  # type: ignore[attr-defined]
        return session.scalar(query) or 0


def _order(web: TestClient, sku: str = "pc.box", **extra: str) -> str:
    data = {"sku": sku, "term_months": "12", "quantity": "1", "contact_person": "Ms Lee",
            "contact_info": "lee@example.com", **extra}
    response = post(web, "/market/order", data, form_page="/market")
    assert response.status_code == 303, response.text
    return response.headers["location"].split("placed=")[1]


def test_nothing_optional_is_collected_by_registering(web: TestClient, state: AppState) -> None:
    user = _user(state, register(web))
    for model in (WebsiteFiling, CloudOrder, MembershipApplication, OfflineDelivery, ProductTest):
        assert _count(state, model, user.id) == 0
    assert (user.qq, user.address) == (None, None)


def test_cloud_market_order(web: TestClient, state: AppState) -> None:
    user = _user(state, register(web))
    order_no = _order(web, "ecs.s1", term_months="36", quantity="2")
    page = web.get(f"/orders?placed={order_no}")
    assert order_no in page.text and "Cloud server S1" in page.text and "HK$12,096.00" in page.text
    with unit_of_work(state.factory) as session:
        order = session.scalars(select(CloudOrder).where(CloudOrder.order_no == order_no)).one()
        assert (order.user_id, order.amount_cents, order.status, order.contact_info) == (
            user.id, 16_800 * 36 * 2, "active", "lee@example.com")


def test_bad_order_names_each_field(web: TestClient, state: AppState) -> None:
    user = _user(state, register(web))
    response = post(web, "/market/order", {"sku": "nope", "term_months": "7", "quantity": "0",
                                           "contact_person": "", "contact_info": "call me"}, form_page="/market")
    assert response.status_code == 400
    for field in ("sku", "term_months", "quantity", "contact_person", "contact_info"):
        assert field_error(response.text, field) is not None, field
    assert _count(state, CloudOrder, user.id) == 0


def test_third_party_product_needs_the_separate_consent(web: TestClient, state: AppState) -> None:
    user = _user(state, register(web))
    refused = post(web, "/market/order", {"sku": "mp.waf", "term_months": "1", "quantity": "1",
                                          "contact_person": "Ms Lee", "contact_info": "lee@example.com"},
                   form_page="/market")
    assert refused.status_code == 400
    assert (field_error(refused.text, "share_consent") or "").startswith(
        "Consent to share with the provider: This product")
    assert _count(state, CloudOrder, user.id) == 0
    _order(web, "ecs.s1")   # Landups' own products never need it: refusing blocks nothing else
    order_no = _order(web, "mp.waf", share_consent="yes")
    with unit_of_work(state.factory) as session:
        order = session.scalars(select(CloudOrder).where(CloudOrder.order_no == order_no)).one()
        assert (order.provider, order.status) == ("marketplace-provider-example", "awaiting_provider")
        calls = session.scalars(select(CharterCall).where(CharterCall.user_id == user.id,
                                                          CharterCall.kind == "record_consent")).all()
        shares = [json.loads(c.payload) for c in calls if json.loads(c.payload)["purpose"] == "share_third_parties"]
        assert len(shares) == 1 and shares[0]["notice"] == "market-order:mp.waf" and shares[0]["action"] == "grant"


def test_offline_delivery_for_an_order(web: TestClient, state: AppState) -> None:
    user = _user(state, register(web))
    _order(web, "ecs.s1")
    with unit_of_work(state.factory) as session:
        cloud_server = session.scalars(select(CloudOrder.id).where(CloudOrder.user_id == user.id)).one()
    not_deliverable = post(web, "/delivery", {
        "order_id": str(cloud_server), "contact_person": "Ms Lee", "contact_info": "9123 4567", "address": "Central",
        "preferred_date": SOON}, form_page="/orders")
    assert not_deliverable.status_code == 400
    assert field_error(not_deliverable.text, "order_id") == (
        "Order: Choose one of your orders that offers offline delivery.")
    _order(web, "pc.box")
    with unit_of_work(state.factory) as session:
        appliance = session.scalars(select(CloudOrder.id).where(CloudOrder.user_id == user.id,
                                                                CloudOrder.sku == "pc.box")).one()
    bad = post(web, "/delivery", {"order_id": str(appliance), "contact_person": "Ms Lee", "contact_info": "x",
                                  "address": "", "preferred_date": "2001-01-01"})
    assert bad.status_code == 400
    assert {f for f in ("contact_info", "address", "preferred_date") if field_error(bad.text, f)} == {
        "contact_info", "address", "preferred_date"}
    assert _count(state, OfflineDelivery, user.id) == 0
    good = post(web, "/delivery", {"order_id": str(appliance), "contact_person": "Ms Lee",
                                   "contact_info": "9123 4567", "address": "香港中環德輔道中 1 號 10 樓",
                                   "preferred_date": SOON, "notes": "Loading bay at the back"})
    assert good.status_code == 303
    page = web.get("/orders")
    assert "香港中環德輔道中 1 號 10 樓" in page.text and "Requested" in page.text


def test_someone_elses_order_cannot_be_delivered(web: TestClient, state: AppState, landups_app: object) -> None:
    register(web)
    _order(web, "pc.box")
    with unit_of_work(state.factory) as session:
        theirs = session.scalars(select(CloudOrder.id).order_by(CloudOrder.id.desc())).first()
    other = TestClient(landups_app, base_url="https://testserver", follow_redirects=False)  # type: ignore[arg-type]
    register(other)
    response = post(other, "/delivery", {"order_id": str(theirs), "contact_person": "X", "contact_info": "9123 4567",
                                         "address": "Somewhere", "preferred_date": SOON}, form_page="/orders")
    assert response.status_code == 400 and field_error(response.text, "order_id") is not None


def test_product_testing(web: TestClient, state: AppState) -> None:
    user = _user(state, register(web))
    bad = post(web, "/testing", {"sku": "oss.1t", "contact_person": "Ms Lee", "contact_info": "9123 4567",
                                 "address": "Kwun Tong", "preferred_date": SOON, "description": ""})
    assert bad.status_code == 400
    assert field_error(bad.text, "sku") == "Product: This product is not offered for testing."
    assert field_error(bad.text, "description") is not None
    good = post(web, "/testing", {"sku": "rds.m2", "contact_person": "Ms Lee", "contact_info": "9123 4567",
                                  "address": "Kwun Tong", "preferred_date": SOON,
                                  "description": "Failover under load with our app"})
    assert good.status_code == 303
    assert _count(state, ProductTest, user.id) == 1


def test_membership_upgrade(web: TestClient, state: AppState) -> None:
    user = _user(state, register(web))
    bad = post(web, "/membership", {"to_level": "standard", "contact_person": "Ms Lee", "contact_info": "9123 4567"})
    assert bad.status_code == 400 and field_error(bad.text, "to_level") is not None
    good = post(web, "/membership", {"to_level": "gold", "contact_person": "Ms Lee", "contact_info": "9123 4567"})
    assert good.status_code == 303
    assert "being reviewed" in web.get("/membership").text
    again = post(web, "/membership", {"to_level": "enterprise", "contact_person": "Ms Lee",
                                      "contact_info": "9123 4567"}, form_page="/orders")
    assert again.status_code == 400
    assert _count(state, MembershipApplication, user.id) == 1


def test_website_filing_with_principal_photo(web: TestClient, state: AppState) -> None:
    user = _user(state, register(web))
    form = {"domain": "https://Shop.Example.com.hk/", "site_name": "Example Shop", "site_category": "ecommerce",
            "contact_person": "Mr Wong", "contact_info": "wong@example.com"}
    missing = post(web, "/filing", form)
    assert missing.status_code == 400 and field_error(missing.text, "id_photo") is not None
    bad_domain = post(web, "/filing", {**form, "domain": "not a domain"},
                      files={"id_photo": ("p.jpg", photo_bytes(), "image/jpeg")})
    assert bad_domain.status_code == 400 and field_error(bad_domain.text, "domain") is not None
    assert _count(state, WebsiteFiling, user.id) == 0
    good = post(web, "/filing", form, files={"id_photo": ("p.jpg", photo_bytes(), "image/jpeg")})
    assert good.status_code == 303
    page = web.get("/filing")
    assert "shop.example.com.hk" in page.text and "Submitted" in page.text


def test_bank_account_is_sealed_and_masked_everywhere(web: TestClient, state: AppState) -> None:
    user = _user(state, register(web))
    number = "004-123-456789012"
    bad = post(web, "/billing", {"bank_name": "HSBC", "holder": "Chan Tai Man", "account_number": "12-34"})
    assert bad.status_code == 400 and "12-34" not in bad.text
    assert field_error(bad.text, "account_number") is not None
    saved = post(web, "/billing", {"bank_name": "HSBC", "holder": "Chan Tai Man", "account_number": number})
    assert saved.status_code == 200
    for page in (saved.text, web.get("/billing").text):
        assert "•••• 9012" in page
        assert "004123456789012" not in page and "456789012" not in page and "Chan Tai Man" not in page
    with state.engine.connect() as conn:
        raw = conn.execute(text("SELECT holder_sealed, number_sealed FROM bank_accounts WHERE user_id = :u"),
                           {"u": user.id}).one()
    assert "Chan" not in raw[0] and "456789" not in raw[1] and "9012" not in raw[1]


def test_linking_a_landups_com_account(web: TestClient, state: AppState, landups_app: object) -> None:
    site = TestClient(landups_app, base_url="https://testserver", follow_redirects=False)  # type: ignore[arg-type]
    username = f"site_{date.today():%m%d}_{id(site) % 100000}"
    created = post(site, "/site/register", {"username": username, "email": "site@example.com",
                                            "password": PASSWORD})
    assert created.status_code == 200 and username in created.text
    lookalike = post(site, "/site/register", {"username": "lu0123456789", "email": "x@example.com",
                                              "password": PASSWORD})
    assert lookalike.status_code == 400 and field_error(lookalike.text, "username") is not None
    user = _user(state, register(web))
    wrong = post(web, "/account/links", {"username": username, "password": "not the password"})
    assert wrong.status_code == 400 and field_error(wrong.text, "username") is not None
    assert post(web, "/account/links", {"username": username, "password": PASSWORD}).status_code == 303
    assert username in web.get("/account/links").text
    with unit_of_work(state.factory) as session:
        assert session.scalar(select(func.count()).select_from(AccountLink)
                              .where(AccountLink.user_id == user.id)) == 1
        call = session.scalars(select(CharterCall).where(CharterCall.user_id == user.id,
                                                         CharterCall.kind == "link_identity")).one()
        body = json.loads(call.payload)
        assert (body["kind"], body["value"], body["site"]) == ("account_id", username, "landups.com")
    other = TestClient(landups_app, base_url="https://testserver", follow_redirects=False)  # type: ignore[arg-type]
    register(other)
    taken = post(other, "/account/links", {"username": username, "password": PASSWORD})
    assert taken.status_code == 400
    assert post(web, "/account/links/remove", {}, form_page="/account/links").status_code == 303
    with unit_of_work(state.factory) as session:
        assert session.scalar(select(func.count()).select_from(AccountLink)
                              .where(AccountLink.user_id == user.id)) == 0
