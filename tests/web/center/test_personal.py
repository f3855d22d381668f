"""The person's part of the privacy centre over HTTP: sign-in by code and by the host's link, what we hold,
consents, requests (with the copy of their data), re-consent after a change; CSRF and tenant isolation."""

from __future__ import annotations

import io
import json
import re
import zipfile

import httpx
import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient

from charter.audit.models import AuditEvent
from charter.consent.models import ConsentEvent
from charter.disclosures.services import DisclosureLog
from charter.outbox.services import Outbox
from charter.policy.services import PolicyStore
from charter.requests.models import DataRequest
from charter.sdk import Client
from tests.factories import make_controller, publish_policy
from tests.requests.world import ANN_EMAIL, World, policy_with_recipient
from tests.web.pages import browser, csrf_of, post_form


def last_code(world: World) -> str:
    with world.sessions() as session:
        outbox = Outbox(session, world.keyring)
        for message in outbox.messages(world.cid):
            if message.template == "verification_code":
                found = re.search(r"(?<!\d)\d{6}(?!\d)", outbox.content(message).text)
                assert found is not None
                return found.group(0)
    raise AssertionError("no code was sent")


def signed_in(app: FastAPI, world: World, identity: str = ANN_EMAIL) -> TestClient:
    client = browser(app, lang="en")
    center = f"/center/{world.cid}"
    r = post_form(client, f"{center}/sign-in", f"{center}/sign-in", {"identity": identity})
    assert r.status_code == 303 and r.headers["location"] == f"{center}/sign-in/code"
    r = post_form(client, f"{center}/sign-in/code", f"{center}/sign-in/code", {"code": last_code(world)})
    assert r.status_code == 303, r.text
    assert r.headers["location"] == f"{center}/data"
    return client


def test_sign_in_by_code_then_what_we_hold(app: FastAPI, world: World) -> None:
    with world.sessions() as s, s.begin():
        DisclosureLog(s).record(world.cid, world.ann, recipient_id="mailer", categories=["contact.email"],
                                actor="test")
    center = f"/center/{world.cid}"
    assert browser(app).get(f"{center}/data").headers["location"] == f"{center}/sign-in"
    client = signed_in(app, world)
    page = client.get(f"{center}/data")
    assert page.status_code == 200
    assert "Phone number" in page.text and "Acme shop" in page.text and "region CN" in page.text
    assert "Mail provider" in page.text and "dpo@mailer.example" in page.text  # who received what
    assert ANN_EMAIL not in page.text
    with world.sessions() as s:
        reads = s.query(AuditEvent).filter(AuditEvent.controller_id == world.cid,
                                           AuditEvent.action == "personal_data.read").all()
        assert reads and all(e.actor == f"subject:{world.ann}" for e in reads)


def test_an_unknown_address_gets_the_same_answer_and_no_code(app: FastAPI, world: World) -> None:
    client = browser(app, lang="en")
    center = f"/center/{world.cid}"
    r = post_form(client, f"{center}/sign-in", f"{center}/sign-in", {"identity": "nobody@example.com"})
    assert r.status_code == 303 and r.headers["location"] == f"{center}/sign-in/code"
    with world.sessions() as s:
        assert Outbox(s, world.keyring).messages(world.cid) == []
    for _ in range(4):
        r = post_form(client, f"{center}/sign-in/code", f"{center}/sign-in/code", {"code": "123456"})
        assert r.status_code == 401
    r = post_form(client, f"{center}/sign-in/code", f"{center}/sign-in/code", {"code": "123456"})
    assert r.status_code == 429


def test_codes_are_rate_limited_per_address(app: FastAPI, world: World) -> None:
    client = browser(app, lang="en")
    center = f"/center/{world.cid}"
    statuses = [post_form(client, f"{center}/sign-in", f"{center}/sign-in", {"identity": ANN_EMAIL}).status_code
                for _ in range(6)]
    assert statuses == [303] * 5 + [429]


def test_forms_need_the_token(app: FastAPI, world: World) -> None:
    client = signed_in(app, world)
    center = f"/center/{world.cid}"
    assert client.post(f"{center}/consents/marketing", data={"action": "grant"}).status_code == 403
    assert client.post(f"{center}/requests", data={"kind": "erasure", "csrf": "bad"}).status_code == 403
    assert client.post(f"{center}/sign-in", data={"identity": ANN_EMAIL}).status_code == 403


def test_consents_change_and_receipt(app: FastAPI, world: World) -> None:
    client = signed_in(app, world)
    center = f"/center/{world.cid}"
    r = post_form(client, f"{center}/consents", f"{center}/consents/marketing", {"action": "grant"})
    assert r.status_code == 303
    page = client.get(f"{center}/consents").text
    assert "Given" in page and "Separate consents" in page and "Pay you" in page
    r = post_form(client, f"{center}/consents", f"{center}/consents/marketing", {"action": "withdraw"})
    assert r.status_code == 303
    with world.sessions() as s:
        events = s.query(ConsentEvent).filter(ConsentEvent.controller_id == world.cid).order_by(ConsentEvent.seq).all()
        assert [(e.purpose, e.action, e.channel) for e in events] == [("marketing", "grant", "web"),
                                                                       ("marketing", "withdraw", "web")]
        record_id = events[-1].record_id
    receipt = client.get(f"{center}/consents/receipt/{record_id}")
    assert receipt.status_code == 200 and "attachment" in receipt.headers["content-disposition"]
    assert json.loads(receipt.text)
    assert client.get(f"{center}/consents/receipt/00000000-0000-0000-0000-000000000000").status_code == 404


def test_copy_of_my_data_then_delete(app: FastAPI, world: World) -> None:
    client = signed_in(app, world)
    center = f"/center/{world.cid}"
    r = post_form(client, f"{center}/requests", f"{center}/requests", {"kind": "access"})
    assert r.status_code == 303
    assert world.worker.wait_idle(30)
    page = client.get(f"{center}/requests").text
    link = re.search(r'href="(/center/[^"]+/bundle)"', page)
    assert link, page
    bundle = client.get(link.group(1))
    assert bundle.status_code == 200 and bundle.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(bundle.content)) as archive:
        data = json.loads(archive.read("bundle.json"))
    assert any(ANN_EMAIL in json.dumps(rows) for rows in data["collections"].values())
    r = post_form(client, f"{center}/requests", f"{center}/requests", {"kind": "erasure"})
    assert r.status_code == 303
    assert world.worker.wait_idle(30)
    with world.sessions() as s:
        kinds = {r.kind: r.status for r in s.query(DataRequest).filter(DataRequest.controller_id == world.cid)}
    assert kinds["access"] == "completed"
    assert kinds["erasure"].startswith("completed")


def test_another_persons_request_is_not_found(app: FastAPI, world: World) -> None:
    client = signed_in(app, world)
    center = f"/center/{world.cid}"
    with world.sessions() as s, s.begin():
        other = world.service(s).submit(world.cid, kind="access", identity_kind="email",
                                        identity_value="bob@example.com", actor="test").request.id
    assert client.get(f"{center}/requests/{other}/bundle").status_code == 404
    # Ann's session does not open another controller's centre.
    with world.sessions() as s, s.begin():
        theirs = make_controller(s)
    publish_policy(world.sessions, theirs)
    assert client.get(f"/center/{theirs}/data").headers["location"] == f"/center/{theirs}/sign-in"


def test_the_hosts_link_asks_for_a_click_then_signs_in_once(app: FastAPI, world: World) -> None:
    with TestClient(app, base_url="http://testserver") as http:
        sdk = Client("http://testserver", world.tenant.secret, http=http)
        url = sdk.privacy_centre_link(world.ann, lang="en")
    assert world.ann not in url and ANN_EMAIL not in url
    path = httpx.URL(url).raw_path.decode()
    center = f"/center/{world.cid}"
    scanner = browser(app)  # a mail scanner or link preview fetching the URL: shown the page, signed in as nobody
    r = scanner.get(path)
    assert r.status_code == 303  # the language switch first
    confirm = scanner.get(r.headers["location"])
    assert confirm.status_code == 200 and "Continue to your privacy centre" in confirm.text
    assert "a••@example.com" in confirm.text and ANN_EMAIL not in confirm.text
    assert scanner.get(f"{center}/data").headers["location"] == f"{center}/sign-in"
    token = re.search(r'name="token" value="([^"]+)"', confirm.text)
    assert token is not None
    assert scanner.post(f"{center}/enter", data={"token": token.group(1)}).status_code == 403  # no form token

    person = browser(app)  # the person, later: the link still works, once, and only by the button
    page = person.get(path.replace("&lang=en", ""))
    assert page.status_code == 200 and 'id="continue"' in page.text
    r = person.post(f"{center}/enter", data={"csrf": csrf_of(page.text), "token": token.group(1)})
    assert r.status_code == 303 and r.headers["location"] == f"{center}/data"
    assert person.get(f"{center}/data").status_code == 200
    with world.sessions() as s:
        signed = s.query(AuditEvent).filter(AuditEvent.controller_id == world.cid,
                                            AuditEvent.action == "center.signed_in").one()
        assert signed.actor == f"subject:{world.ann}" and signed.data == {"by": "center-link"}

    again = browser(app)
    shown = again.get(path.replace("&lang=en", ""))
    assert shown.headers["location"] == f"{center}/sign-in"  # used: the page is gone too
    r = again.post(f"{center}/enter", data={"csrf": csrf_of(again.get(f"{center}/sign-in").text),
                                            "token": token.group(1)})
    assert r.status_code == 303 and r.headers["location"] == f"{center}/sign-in"
    assert again.get(f"{center}/data").headers["location"] == f"{center}/sign-in"


def test_a_policy_change_asks_first_and_records_each_answer(app: FastAPI, world: World) -> None:
    center = f"/center/{world.cid}"
    doc = yaml.safe_load(policy_with_recipient(world.cid))
    doc["version"] = "2.0"
    for pid in ("surveys", "research"):
        doc["purposes"].append({
            "id": pid, "label": {"zh": pid, "en": pid.title()}, "description": {"zh": pid, "en": f"About {pid}"},
            "legal_basis": "consent", "is_essential": False, "consent": "general", "categories": ["contact.email"],
            "retention": {"days": 30, "text": {"zh": "30天", "en": "30 days"}}})
    with world.sessions() as s, s.begin():
        PolicyStore(s).publish(world.cid, yaml.safe_dump(doc, allow_unicode=True), source="p2.yaml", actor="test")
    client = signed_in(app, world)
    assert client.get(f"{center}/data").headers["location"] == f"{center}/reconsent"
    page = client.get(f"{center}/reconsent")
    assert "Surveys" in page.text and "Research" in page.text
    r = client.post(f"{center}/reconsent", data={"csrf": csrf_of(page.text), "answer-surveys": "grant"})
    assert r.status_code == 400  # each purpose needs its own answer
    r = client.post(f"{center}/reconsent", data={"csrf": csrf_of(page.text), "answer-surveys": "grant",
                                                 "answer-research": "refuse"})
    assert r.status_code == 303
    assert client.get(f"{center}/data").status_code == 200
    with world.sessions() as s:
        events = s.query(ConsentEvent).filter(ConsentEvent.controller_id == world.cid).all()
        assert sorted((e.purpose, e.action) for e in events) == [("research", "refuse"), ("surveys", "grant")]


@pytest.mark.parametrize("lang", ["zh-CN", "zh-TW", "en"])
def test_every_personal_page_in_every_language(app: FastAPI, world: World, lang: str) -> None:
    missing = app.state.ui.catalogues.missing
    missing.clear()
    center = f"/center/{world.cid}"
    client = signed_in(app, world)
    client.cookies.set("lang", lang)
    pages = [client.get(f"{center}{p}") for p in ("/data", "/consents", "/requests")]
    post_form(client, f"{center}/requests", f"{center}/requests", {"kind": "access"})
    assert world.worker.wait_idle(30)  # SQLite: the audit chain has one writer at a time
    pages.append(client.get(f"{center}/requests"))
    anonymous = browser(app, lang=lang)
    pages.append(anonymous.get(f"{center}/sign-in"))
    pages.append(post_form(anonymous, f"{center}/sign-in", f"{center}/sign-in", {"identity": "not an address"}))
    post_form(anonymous, f"{center}/sign-in", f"{center}/sign-in", {"identity": "x@example.com"})
    pages.append(anonymous.get(f"{center}/sign-in/code"))
    pages.append(post_form(anonymous, f"{center}/sign-in/code", f"{center}/sign-in/code", {"code": "000000"}))
    assert all(f'<html lang="{lang}">' in p.text for p in pages)
    assert not missing, sorted(m for _, m in missing)


def test_the_menu_marks_the_page_you_are_on_and_only_it(app: FastAPI, world: World) -> None:
    center = f"/center/{world.cid}"
    client = signed_in(app, world)
    for page in ("", "/versions", "/data", "/consents", "/requests"):
        html = client.get(f"{center}{page}").text
        current = re.findall(r'<a href="([^"]+)" aria-current="page"', html)
        assert current == [f"{center}{page}"], (page, current)
        assert 'id="contacts"' in html and "privacy@" in html  # LUB-CONTACT on every page, signed in too


def test_after_the_account_is_cancelled_the_centre_says_so_and_offers_no_second_cancellation(
        app: FastAPI, world: World) -> None:
    client = signed_in(app, world)
    center = f"/center/{world.cid}"
    before = client.get(f"{center}/requests").text
    assert 'id="ask-cancellation"' in before and 'id="account-cancelled"' not in before
    r = post_form(client, f"{center}/requests", f"{center}/requests", {"kind": "cancellation"})
    assert r.status_code == 303
    assert world.worker.wait_idle(30)
    with world.sessions() as s:
        [done] = s.query(DataRequest).filter(DataRequest.controller_id == world.cid).all()
        assert done.kind == "cancellation" and done.status.startswith("completed")
    after = client.get(f"{center}/requests")
    assert after.status_code == 200
    assert 'id="account-cancelled"' in after.text and 'id="ask-cancellation"' not in after.text
    assert 'id="ask-access"' in after.text  # a copy of what is kept can still be asked for
