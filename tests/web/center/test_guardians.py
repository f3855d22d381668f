"""Guardians act for minors in the privacy centre (PIPL art. 31; LUB-MINORS), over HTTP on the shop world:

a minor signing in sees that their guardian must act (they may look and withdraw, not give consent or make
requests); a guardian signs in with a code sent to the contact in the guardian-consent record, or through the
host's link made for them, and sees the minor's data, changes consents and makes requests, every action recorded
with the guardian as actor and a consent they give as a guardian consent; a guardian of two minors chooses; a
minor known to be of age no longer has a guardian acting for them."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import httpx
import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from charter.audit.models import AuditEvent
from charter.consent.models import ConsentEvent, ConsentState, GuardianRecord
from charter.core.crypto import Keyring
from charter.core.db import transaction
from charter.core.i18n import Lang
from charter.outbox.services import Outbox
from charter.requests.models import DataRequest
from charter.requests.services import contact_context
from charter.sdk import CharterAPIError, Client
from charter.subjects.age import add_years
from charter.subjects.services import SubjectDirectory
from tests.factories import publish
from tests.requests.world import ANN_EMAIL, World, policy_with_recipient
from tests.web.center.test_personal import signed_in
from tests.web.pages import browser, csrf_of, post_form

KID_EMAIL, SIB_EMAIL, PARENT_EMAIL = "kid@example.com", "sib@example.com", "parent@example.com"


def api(app: FastAPI) -> TestClient:
    return TestClient(app, base_url="http://testserver")


def register_minor(app: FastAPI, world: World, email: str, *, age: int = 10, guardian: str | None = PARENT_EMAIL,
                   method: str = "id_document") -> str:
    """A child registered by the host with their date of birth and, when `guardian`, a guardian's consent to
    marketing recorded with the guardian's contact."""
    born = add_years(dt.date.today(), -age).isoformat()
    http = api(app)
    r = http.post("/v1/subjects", headers=world.tenant.headers,
                  json={"identities": [{"kind": "email", "value": email}], "birth_date": born})
    assert r.status_code == 201, r.text
    subject: str = r.json()["subject_id"]
    if guardian is not None:
        r = http.post("/v1/consents", headers=world.tenant.headers, json={
            "subject_id": subject, "purpose": "marketing", "action": "guardian_grant",
            "guardian": {"name": "Wang Fang", "relationship": "parent", "contact": guardian,
                         "verification_method": method, "verified_at": "2024-05-01T10:00:00+00:00",
                         "rules_version": "1.0"}})
        assert r.status_code == 201, r.text
    return subject


def code_sent_to(world: World, address: str) -> str:
    with world.sessions() as session:
        outbox = Outbox(session, world.keyring)
        for message in outbox.messages(world.cid):  # newest first
            if message.template == "verification_code" and outbox.recipient(message) == address:
                found = re.search(r"(?<!\d)\d{6}(?!\d)", outbox.content(message).text)
                assert found is not None
                return found.group(0)
    raise AssertionError(f"no code was sent to {address}")


def guardian_signs_in(app: FastAPI, world: World, contact: str = PARENT_EMAIL) -> TestClient:
    client = browser(app, lang="en")
    center = f"/center/{world.cid}"
    r = post_form(client, f"{center}/guardian", f"{center}/guardian", {"identity": contact})
    assert r.status_code == 303 and r.headers["location"] == f"{center}/sign-in/code"
    r = post_form(client, f"{center}/sign-in/code", f"{center}/sign-in/code", {"code": code_sent_to(world, contact)})
    assert r.status_code == 303, r.text
    return client


def field(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]+)"', html)
    assert found, name
    return found.group(1)


def _events(world: World, subject: str) -> list[ConsentEvent]:
    with world.sessions() as s:
        return list(s.execute(select(ConsentEvent).where(ConsentEvent.controller_id == world.cid,
                                                         ConsentEvent.subject_id == subject)
                              .order_by(ConsentEvent.seq)).scalars())


def _guardian_record(world: World, subject: str) -> str:
    with world.sessions() as s:
        return str(s.execute(select(GuardianRecord.id).where(GuardianRecord.controller_id == world.cid,
                                                             GuardianRecord.subject_id == subject)
                             .order_by(GuardianRecord.created_at)).scalars().first())


def test_a_minor_sees_that_their_guardian_must_act(app: FastAPI, world: World) -> None:
    kid = register_minor(app, world, KID_EMAIL)
    client = signed_in(app, world, KID_EMAIL)
    center = f"/center/{world.cid}"
    data = client.get(f"{center}/data")
    assert data.status_code == 200 and 'id="guardian-must-act"' in data.text
    assert f'href="{center}/guardian"' in data.text
    consents = client.get(f"{center}/consents").text
    payouts = consents[consents.index('id="purpose-payouts"'):]
    assert "Your parent or guardian must give this consent." in payouts[:payouts.index("</article>")]
    assert "Give consent" not in consents
    refused = post_form(client, f"{center}/consents", f"{center}/consents/payouts", {"action": "grant"})
    assert refused.status_code == 403 and "Your parent or guardian must do this" in refused.text
    requests = client.get(f"{center}/requests").text
    assert 'id="ask-guardian"' in requests and 'id="ask-access"' not in requests
    refused = post_form(client, f"{center}/requests", f"{center}/requests", {"kind": "access"})
    assert refused.status_code == 403
    # Saying no needs nobody's permission: the child withdraws what the guardian gave.
    r = post_form(client, f"{center}/consents", f"{center}/consents/marketing", {"action": "withdraw"})
    assert r.status_code == 303
    events = _events(world, kid)
    assert [e.action for e in events] == ["guardian_grant", "withdraw"]
    assert events[0].actor.startswith("api_key:") and events[1].actor == f"subject:{kid}"
    with world.sessions() as s:
        assert s.query(DataRequest).filter(DataRequest.controller_id == world.cid).count() == 0


def test_a_guardian_signs_in_by_code_and_acts_for_the_minor(app: FastAPI, world: World) -> None:
    kid = register_minor(app, world, KID_EMAIL)
    record = _guardian_record(world, kid)
    guardian = guardian_signs_in(app, world)
    center = f"/center/{world.cid}"
    data = guardian.get(f"{center}/data")
    assert data.status_code == 200 and 'id="acting-as-guardian"' in data.text
    assert "Signed in as a guardian" in data.text and 'id="guardian-must-act"' not in data.text
    consents = guardian.get(f"{center}/consents").text
    assert 'id="minors-rules"' in consents

    r = post_form(guardian, f"{center}/consents", f"{center}/consents/payouts", {"action": "grant"})
    assert r.status_code == 303
    r = post_form(guardian, f"{center}/consents", f"{center}/consents/marketing", {"action": "withdraw"})
    assert r.status_code == 303
    r = post_form(guardian, f"{center}/requests", f"{center}/requests", {"kind": "access"})
    assert r.status_code == 303
    assert world.worker.wait_idle(30)

    given, withdrawn = _events(world, kid)[1:]
    assert (given.purpose, given.action, given.actor) == ("payouts", "guardian_grant", f"guardian:{record}")
    assert (withdrawn.purpose, withdrawn.action, withdrawn.actor) == ("marketing", "withdraw", f"guardian:{record}")
    with world.sessions() as s:
        fresh = s.get(GuardianRecord, given.guardian_record_id)
        assert fresh is not None and fresh.subject_id == kid and fresh.id != record
        assert (fresh.verification_method, fresh.relationship, fresh.rules_version) == ("email_code", "parent", "1.0")
        state = s.get(ConsentState, (world.cid, kid, "payouts"))
        assert state is not None and state.status == "granted" and state.by_guardian
        request = s.query(DataRequest).filter(DataRequest.controller_id == world.cid).one()
        assert (request.subject_id, request.kind, request.verified_by) == (kid, "access", "guardian-code")
        # the request's news goes to the guardian who made it, not to the child
        assert app.state.keyring.decrypt(request.contact_encrypted, contact_context(world.cid)) == PARENT_EMAIL
        outbox = Outbox(s, app.state.keyring)
        told = {outbox.recipient(m) for m in outbox.messages(world.cid) if m.template.startswith("request_")}
        assert told == {PARENT_EMAIL}
        audit = s.query(AuditEvent).filter(AuditEvent.controller_id == world.cid).order_by(AuditEvent.seq).all()
    by_guardian = [(e.action, e.target) for e in audit if e.actor == f"guardian:{record}"]
    assert ("center.signed_in", f"subject:{kid}") in by_guardian
    assert ("consent.recorded" in {a for a, _ in by_guardian}) and ("request.received" in {a for a, _ in by_guardian})
    reads = [e for e in audit if e.action == "personal_data.read" and e.actor == f"guardian:{record}"]
    assert reads and all(e.data["by"] == "guardian" and e.target == f"subject:{kid}" for e in reads)
    assert not [e for e in audit if e.actor == f"subject:{kid}"]  # the child did none of it

    # The decider now has the guardian's consent for the child's payouts.
    decided = api(app).post("/v1/decisions", headers=world.tenant.headers, json={"subject_id": kid,
                                                                                  "purpose": "payouts"})
    assert decided.status_code == 200 and decided.json()["allowed"], decided.text


def test_an_unknown_contact_gets_the_same_answer_and_no_code(app: FastAPI, world: World) -> None:
    register_minor(app, world, KID_EMAIL)
    center = f"/center/{world.cid}"
    for contact in ("stranger@example.com", ANN_EMAIL, KID_EMAIL):  # not a guardian's contact, whoever it is
        client = browser(app, lang="en")
        r = post_form(client, f"{center}/guardian", f"{center}/guardian", {"identity": contact})
        assert r.status_code == 303 and r.headers["location"] == f"{center}/sign-in/code"
        r = post_form(client, f"{center}/sign-in/code", f"{center}/sign-in/code", {"code": "123456"})
        assert r.status_code == 401
    with world.sessions() as s:
        outbox = Outbox(s, world.keyring)
        assert [outbox.recipient(m) for m in outbox.messages(world.cid) if m.template == "verification_code"] == []
    bad = post_form(browser(app, lang="en"), f"{center}/guardian", f"{center}/guardian", {"identity": "nope"})
    assert bad.status_code == 400 and "Enter an email address or a mobile number." in bad.text


def test_a_guardian_of_two_chooses_whom_to_act_for(app: FastAPI, world: World) -> None:
    register_minor(app, world, KID_EMAIL)
    sibling = register_minor(app, world, SIB_EMAIL, age=8)
    record = _guardian_record(world, sibling)
    client = browser(app, lang="en")
    center = f"/center/{world.cid}"
    post_form(client, f"{center}/guardian", f"{center}/guardian", {"identity": "Parent@Example.com"})
    r = post_form(client, f"{center}/sign-in/code", f"{center}/sign-in/code",
                  {"code": code_sent_to(world, PARENT_EMAIL)})
    assert r.status_code == 303 and r.headers["location"] == f"{center}/guardian/choose"
    assert client.get(f"{center}/data").headers["location"] == f"{center}/sign-in"  # not in before choosing
    page = client.get(f"{center}/guardian/choose")
    assert "k••@example.com" in page.text and "s••@example.com" in page.text and SIB_EMAIL not in page.text
    r = client.post(f"{center}/guardian/choose", data={"csrf": csrf_of(page.text), "ward": "someone-else"})
    assert r.headers["location"] == f"{center}/guardian"
    page = client.get(f"{center}/guardian/choose")
    r = client.post(f"{center}/guardian/choose", data={"csrf": csrf_of(page.text), "ward": record})
    assert r.status_code == 303 and r.headers["location"] == f"{center}/data"
    post_form(client, f"{center}/consents", f"{center}/consents/payouts", {"action": "grant"})
    assert [(e.purpose, e.actor) for e in _events(world, sibling)][-1] == ("payouts", f"guardian:{record}")


def test_the_hosts_link_for_a_guardian(app: FastAPI, world: World) -> None:
    kid = register_minor(app, world, KID_EMAIL, method="video_call")
    record = _guardian_record(world, kid)
    with api(app) as http:
        sdk = Client("http://testserver", world.tenant.secret, http=http)
        url = sdk.privacy_centre_link(kid, lang="en", guardian=True)
        with pytest.raises(CharterAPIError) as no_guardian:
            sdk.privacy_centre_link(world.ann, guardian=True)
        adult = register_minor(app, world, "grown@example.com", age=20)
        with pytest.raises(CharterAPIError) as of_age:
            sdk.privacy_centre_link(adult, guardian=True)
    assert no_guardian.value.status == 409 and "no guardian consent" in str(no_guardian.value)
    assert of_age.value.status == 409 and "of age" in str(of_age.value)
    path = httpx.URL(url).raw_path.decode().replace("&lang=en", "")
    center = f"/center/{world.cid}"
    client = browser(app, lang="en")
    page = client.get(path)
    assert page.status_code == 200 and "Continue to the privacy centre as a guardian" in page.text
    assert "k••@example.com" in page.text and KID_EMAIL not in page.text
    r = client.post(f"{center}/enter", data={"csrf": csrf_of(page.text), "token": field(page.text, "token")})
    assert r.status_code == 303 and r.headers["location"] == f"{center}/data"
    assert 'id="acting-as-guardian"' in client.get(f"{center}/data").text
    post_form(client, f"{center}/consents", f"{center}/consents/payouts", {"action": "grant"})
    given = _events(world, kid)[-1]
    assert (given.action, given.actor) == ("guardian_grant", f"guardian:{record}")
    with world.sessions() as s:
        fresh = s.get(GuardianRecord, given.guardian_record_id)
        assert fresh is not None and fresh.verification_method == "video_call"  # as the host first verified


def test_a_guardian_no_longer_acts_once_the_person_is_of_age(app: FastAPI, world: World, keyring: Keyring) -> None:
    kid = register_minor(app, world, KID_EMAIL)
    client = guardian_signs_in(app, world)
    center = f"/center/{world.cid}"
    assert client.get(f"{center}/data").status_code == 200
    with transaction(world.sessions) as s:  # the host corrects the date of birth: the person is 20
        SubjectDirectory(s, keyring).set_latest_birth(world.cid, kid, add_years(dt.date.today(), -20), "birth_date",
                                                      actor="test")
    assert client.get(f"{center}/data").headers["location"] == f"{center}/sign-in"
    before = len(_codes(world))
    again = browser(app, lang="en")
    r = post_form(again, f"{center}/guardian", f"{center}/guardian", {"identity": PARENT_EMAIL})
    assert r.headers["location"] == f"{center}/sign-in/code"
    assert len(_codes(world)) == before  # no one to act for: no code


def test_after_a_policy_change_the_guardian_answers_not_the_child(app: FastAPI, world: World) -> None:
    kid = register_minor(app, world, KID_EMAIL)
    doc: dict[str, Any] = yaml.safe_load(policy_with_recipient(world.cid))
    doc["version"], doc["effective"] = "2.0", "2024-06-01"
    next(p for p in doc["purposes"] if p["id"] == "marketing")["categories"].append("contact.name")
    publish(api(app), world.tenant, yaml.safe_dump(doc, allow_unicode=True))  # through the app: its decider hears
    center = f"/center/{world.cid}"
    child = signed_in(app, world, KID_EMAIL)
    assert child.get(f"{center}/data").status_code == 200  # not asked: the child cannot give consent
    guardian = guardian_signs_in(app, world)
    assert guardian.get(f"{center}/data").headers["location"] == f"{center}/reconsent"
    r = post_form(guardian, f"{center}/reconsent", f"{center}/reconsent", {"answer-marketing": "grant"})
    assert r.status_code == 303
    answer = _events(world, kid)[-1]
    assert (answer.purpose, answer.action, answer.policy_version) == ("marketing", "guardian_grant", "2.0")
    assert answer.actor.startswith("guardian:") and answer.guardian_record_id is not None
    assert guardian.get(f"{center}/data").status_code == 200


def _codes(world: World) -> list[str]:
    with world.sessions() as s:
        outbox = Outbox(s, world.keyring)
        return [m.id for m in outbox.messages(world.cid) if m.template == "verification_code"]


def test_records_from_before_the_index_are_found(app: FastAPI, world: World) -> None:
    kid = register_minor(app, world, KID_EMAIL)
    with transaction(world.sessions) as s:  # as a record written before migration 0008
        s.execute(GuardianRecord.__table__.update().where(GuardianRecord.subject_id == kid)
                  .values(contact_index=None))
    client = guardian_signs_in(app, world)
    assert client.get(f"/center/{world.cid}/data").status_code == 200
    with world.sessions() as s:
        assert s.get(GuardianRecord, _guardian_record(world, kid)).contact_index not in (None, "-")  # type: ignore[union-attr]


@pytest.mark.parametrize("lang", list(Lang))
def test_the_guardian_pages_in_every_language(app: FastAPI, world: World, lang: Lang) -> None:
    register_minor(app, world, KID_EMAIL)
    register_minor(app, world, SIB_EMAIL, age=8)
    missing = app.state.ui.catalogues.missing
    missing.clear()
    center = f"/center/{world.cid}"
    anonymous = browser(app, lang=lang.value)
    pages = [anonymous.get(f"{center}/guardian"), anonymous.get(f"{center}/sign-in"),
             post_form(anonymous, f"{center}/guardian", f"{center}/guardian", {"identity": "x"})]
    chooser = browser(app, lang=lang.value)
    post_form(chooser, f"{center}/guardian", f"{center}/guardian", {"identity": PARENT_EMAIL})
    post_form(chooser, f"{center}/sign-in/code", f"{center}/sign-in/code", {"code": code_sent_to(world, PARENT_EMAIL)})
    pages.append(chooser.get(f"{center}/guardian/choose"))
    kid = signed_in(app, world, KID_EMAIL)
    kid.cookies.set("lang", lang.value)
    pages += [kid.get(f"{center}{p}") for p in ("/data", "/consents", "/requests")]
    pages.append(post_form(kid, f"{center}/requests", f"{center}/requests", {"kind": "access"}))
    page = chooser.get(f"{center}/guardian/choose")
    post_form(chooser, f"{center}/guardian/choose", f"{center}/guardian/choose", {"ward": field(page.text, "ward")})
    pages += [chooser.get(f"{center}{p}") for p in ("/data", "/consents", "/requests")]
    assert [p.status_code for p in pages] == [200, 200, 400, 200, 200, 200, 200, 403, 200, 200, 200]
    assert all(f'<html lang="{lang.value}">' in p.text for p in pages)
    assert not missing, sorted(m for _, m in missing)
