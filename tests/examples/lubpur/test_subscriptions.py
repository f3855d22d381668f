"""Email subscription over real SMTP: double opt-in, the AD prefix, tracking only when allowed (LUB-BEACONS),
one-click unsubscribe that works at once (LUB-SUBSCRIBE)."""

from __future__ import annotations

import re
from email.message import EmailMessage

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from lubpur.models import ConsentChoice, EmailTrackingEvent, NewsletterDelivery, Subscription
from tests.examples.lubpur.factories import count, csrf, post, staff_login, unique_email
from tests.examples.lubpur.mailbox import Mailbox, html_of, text_of

BASE = "http://localhost:8100"


def _subscribe(web: TestClient, mailbox: Mailbox, address: str, *, tracking: bool) -> None:
    response = web.post("/subscribe", data={"csrf": csrf(web, "/"), "email": address})
    assert response.status_code == 200 and "确认邮件" in response.text
    mail = mailbox.wait_for(address, lambda m: "确认" in str(m["Subject"]))
    link = re.search(BASE + r"(/subscribe/confirm\?token=\S+)", text_of(mail))
    assert link
    token = link.group(1).split("token=")[1]
    data = {"csrf": csrf(web, link.group(1)), "token": token, **({"tracking": "yes"} if tracking else {})}
    done = web.post("/subscribe/confirm", data=data)
    assert done.status_code == 200 and "订阅成功" in done.text


def _send_newsletter(web: TestClient, db: Session, subject: str) -> None:
    staff = TestClient(web.app)
    staff_login(staff, db)
    post(staff, "/staff/newsletters", {"subject_zh": subject, "subject_en": subject + " (en)",
                                       "body_zh": "新品上市:HM 46 抗磨液压油。", "body_en": "New: HM 46 hydraulic oil.",
                                       "links": "/products/100\n/products?category=hydraulic"},
         csrf_from="/staff/newsletters")


def _newsletter(mailbox: Mailbox, address: str, subject: str) -> EmailMessage:
    return mailbox.wait_for(address, lambda m: subject in str(m["Subject"]))


def test_double_opt_in_then_a_tracked_newsletter(web: TestClient, db: Session, mailbox: Mailbox) -> None:
    address = unique_email("reader")
    _subscribe(web, mailbox, address, tracking=True)
    sub = db.scalars(select(Subscription).where(Subscription.email == address)).one()
    assert sub.status == "active" and sub.confirmed_at is not None
    _send_newsletter(web, db, "九月特惠 A1")
    mail = _newsletter(mailbox, address, "九月特惠 A1")
    assert str(mail["Subject"]).startswith("【广告】")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert re.fullmatch(r"<" + BASE + r"/unsubscribe/one-click\?token=\S+>", str(mail["List-Unsubscribe"]))
    html = html_of(mail)
    pixel = re.search(BASE + r"(/t/o/[^\"]+\.gif)", html)
    click = re.search(BASE + r"(/t/c/[^\"/]+/0)", html)
    assert pixel and click
    assert web.get(pixel.group(1)).headers["content-type"] == "image/gif"
    redirect = web.get(click.group(1), follow_redirects=False)
    assert redirect.status_code == 302 and redirect.headers["location"] == "/products/100"
    kinds = db.scalars(select(EmailTrackingEvent.kind).join(NewsletterDelivery)
                       .where(NewsletterDelivery.subscription_id == sub.id).order_by(EmailTrackingEvent.id)).all()
    assert kinds == ["open", "click"]


def test_without_tracking_consent_there_is_no_pixel_and_links_go_straight(web: TestClient, db: Session,
                                                                          mailbox: Mailbox) -> None:
    address = unique_email("private")
    _subscribe(web, mailbox, address, tracking=False)
    _send_newsletter(web, db, "九月特惠 B2")
    mail = _newsletter(mailbox, address, "九月特惠 B2")
    html = html_of(mail)
    assert "/t/o/" not in html and "/t/c/" not in html and "<img" not in html
    assert f"{BASE}/products/100" in html
    assert "/t/" not in text_of(mail)


def test_stopping_tracking_takes_effect_at_once(web: TestClient, db: Session, mailbox: Mailbox) -> None:
    address = unique_email("stopper")
    _subscribe(web, mailbox, address, tracking=True)
    _send_newsletter(web, db, "九月特惠 C3")
    first = html_of(_newsletter(mailbox, address, "九月特惠 C3"))
    pixel = re.search(BASE + r"(/t/o/[^\"]+\.gif)", first)
    stop = re.search(BASE + r"(/email/tracking/stop\?token=[^\"]+)", first)
    assert pixel and stop
    token = stop.group(1).split("token=")[1]
    web.post("/email/tracking/stop", data={"token": token})
    web.get(pixel.group(1))  # the pixel of the earlier mail still loads, but records nothing now
    sub = db.scalars(select(Subscription).where(Subscription.email == address)).one()
    assert count(db, EmailTrackingEvent, EmailTrackingEvent.delivery_id.in_(
        select(NewsletterDelivery.id).where(NewsletterDelivery.subscription_id == sub.id))) == 0
    _send_newsletter(web, db, "九月特惠 C4")
    assert "/t/o/" not in html_of(_newsletter(mailbox, address, "九月特惠 C4"))


def test_unsubscribe_link_stops_mail_at_once_and_deletes_the_subscription(
        web: TestClient, db: Session, mailbox: Mailbox) -> None:
    address = unique_email("leaver")
    _subscribe(web, mailbox, address, tracking=True)
    _send_newsletter(web, db, "九月特惠 D5")
    mail = _newsletter(mailbox, address, "九月特惠 D5")
    url = httpx.URL(str(mail["List-Unsubscribe"]).strip("<>"))
    # RFC 8058: a POST with this body, from the mail client, with no cookie.
    response = TestClient(web.app).post(url.raw_path.decode(), data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert count(db, Subscription, Subscription.email == address) == 0
    withdrawn = db.scalars(select(ConsentChoice).where(ConsentChoice.email == address,
                                                       ConsentChoice.purpose == "marketing_email")
                           .order_by(ConsentChoice.id)).all()
    assert [c.is_granted for c in withdrawn] == [True, False]
    _send_newsletter(web, db, "九月特惠 D6")
    assert not [m for m in mailbox.to(address) if "D6" in str(m["Subject"])]


def test_the_unsubscribe_link_in_the_body_works_too(web: TestClient, db: Session, mailbox: Mailbox) -> None:
    address = unique_email("bodylink")
    _subscribe(web, mailbox, address, tracking=False)
    _send_newsletter(web, db, "九月特惠 E7")
    link = re.search(BASE + r"(/unsubscribe\?token=\S+)", text_of(_newsletter(mailbox, address, "九月特惠 E7")))
    assert link
    page = web.get(link.group(1))
    assert address in page.text
    web.post("/unsubscribe", data={"token": link.group(1).split("token=")[1]})
    assert count(db, Subscription, Subscription.email == address) == 0
    assert "已不存在" in web.get(link.group(1)).text


def test_bad_addresses_and_tokens(web: TestClient, db: Session) -> None:
    response = web.post("/subscribe", data={"csrf": csrf(web, "/"), "email": "nope"})
    assert response.status_code == 400
    assert count(db, Subscription, Subscription.email == "nope") == 0
    assert web.get("/subscribe/confirm", params={"token": "forged"}).status_code == 404
    assert web.get("/t/c/forged/0", follow_redirects=False).status_code == 404
    assert web.get("/t/o/forged.gif").status_code == 200  # a pixel never errors, and records nothing


def test_english_subscribers_get_english_mail_with_the_ad_prefix(web: TestClient, db: Session,
                                                                 mailbox: Mailbox) -> None:
    web.get("/lang/en")
    address = unique_email("english")
    response = web.post("/subscribe", data={"csrf": csrf(web, "/"), "email": address})
    assert "Check your inbox" in response.text
    mail = mailbox.wait_for(address)
    token = re.search(r"token=(\S+)", text_of(mail)).group(1)  # type: ignore[union-attr]
    web.post("/subscribe/confirm", data={"csrf": csrf(web, "/"), "token": token})
    _send_newsletter(web, db, "Offer F8")
    assert str(_newsletter(mailbox, address, "Offer F8")["Subject"]).startswith("[AD] ")
