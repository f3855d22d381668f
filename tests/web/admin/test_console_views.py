"""The data map, recipients and consent statistics pages over HTTP, on the shop world: what each shows comes from
the published map, the policy in force, the disclosure log, the recipient notices erasure sent (and their
acknowledgements) and the consent ledger; every page renders in every language; other controllers see nothing."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from charter.consent.schemas import ConsentIn
from charter.consent.services import ConsentLedger
from charter.core.crypto import Keyring
from charter.core.db import transaction
from charter.core.i18n import Lang
from charter.decisions.services import load_terms
from charter.disclosures.services import DisclosureLog
from charter.policy.services import PolicyStore
from charter.requests.internal import ack_token
from charter.subjects.services import SubjectDirectory
from tests.consent.test_stats import widened
from tests.factories import make_controller, make_staff, publish_policy
from tests.requests.world import World, policy_with_recipient
from tests.web.pages import browser, sign_in


def staff_client(app: FastAPI, sessions: sessionmaker[Session], cid: str, role: str = "viewer",
                 lang: str = "en") -> TestClient:
    client = browser(app, lang=lang)
    sign_in(client, make_staff(sessions, cid, role))
    return client


def test_the_data_map_shows_systems_datasets_collections_and_fields(app: FastAPI, world: World) -> None:
    client = staff_client(app, world.sessions, world.cid)
    page = client.get("/admin/datamap")
    assert page.status_code == 200
    text = page.text
    assert 'id="datamap-version">2 <span class="tag ok">in use' in text  # the newest: requests run against it
    assert "Acme shop" in text and 'id="dataset-shop_db"' in text and "archive" not in text
    shop = text[text.index('id="dataset-shop_db"'):]
    assert '<dd class="region">CN</dd>' in shop and "While the account exists and 30 days after" in shop
    phone = re.search(r'data-field="customers.phone">(.*?)</tr>', text, re.S)
    assert phone and "Phone number" in phone.group(1) and "Empty the field" in phone.group(1)
    email = re.search(r'data-field="customers.email">(.*?)</tr>', text, re.S)
    assert email and "Email address" in email.group(1) and "Replace with a keyed hash" in email.group(1)
    note = re.search(r'data-field="orders.note">(.*?)</tr>', text, re.S)
    assert note and "Empty the field" in note.group(1) and "(collection default)" in note.group(1)
    total = re.search(r'data-field="orders.total">(.*?)</tr>', text, re.S)
    assert total and "Keep under a retention rule" in total.group(1) and "tax_records" in total.group(1)

    first = client.get("/admin/datamap?version=1").text  # the first version still had the paper archive
    assert 'id="dataset-archive"' in first and "Find and handle the paper files in the Shanghai office" in first
    assert client.get("/admin/datamap?version=nine").status_code == 404


def test_no_data_map_yet_says_how_to_publish_one(app: FastAPI, sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        cid = make_controller(s)
    publish_policy(sessions, cid)
    page = staff_client(app, sessions, cid).get("/admin/datamap")
    assert page.status_code == 200 and "No data map is published yet" in page.text


def _counts(html: str, recipient: str) -> str:
    start = html.index(f'id="recipient-{recipient}"')
    return html[start:html.index("</article>", start)]


def test_recipients_show_pipl_23_fields_disclosures_and_notices(app: FastAPI, world: World,
                                                                 keyring: Keyring) -> None:
    with transaction(world.sessions) as s:
        bob = SubjectDirectory(s, keyring).resolve(world.cid, "email", "bob@example.com", actor="test").id
        log = DisclosureLog(s)
        log.record(world.cid, world.ann, recipient_id="mailer", categories=["contact.email"], actor="test")
        log.record(world.cid, world.ann, recipient_id="mailer", categories=["contact.email"], actor="test")
        log.record(world.cid, bob, recipient_id="mailer", categories=["contact.email"], is_compelled=True,
                   actor="test")
    request_id, _token = world.submit_verified("erasure")  # tells the mailer to erase Ann's data too
    client = staff_client(app, world.sessions, world.cid)
    page = client.get("/admin/recipients")
    assert page.status_code == 200
    mailer = _counts(page.text, "mailer")
    for shown in ("Mail provider", "Processes it on our behalf", "dpo@mailer.example", "Sends email on our behalf",
                  "Marketing email", "Email address", "CN"):
        assert shown in mailer, shown
    assert '<strong class="big">3</strong> disclosures' in mailer
    assert "<strong>2</strong> people" in mailer and "<strong>1</strong> compelled by law" in mailer
    waiting = re.search(r'data-action="erasure">(.*?)</tr>', mailer, re.S)
    assert waiting and re.findall(r"<td>(\d+)</td>", waiting.group(1)) == ["1", "0"]
    assert '<span class="tag warn">1</span>' in waiting.group(1)

    ack = client.post(f"/v1/recipient-acks/{ack_token(keyring, f'{request_id}:mailer')}")
    assert ack.status_code == 200, ack.text
    done = re.search(r'data-action="erasure">(.*?)</tr>', _counts(client.get("/admin/recipients").text, "mailer"),
                     re.S)
    assert done and re.findall(r"<td>(\d+)</td>", done.group(1)) == ["1", "1"]
    assert '<span class="tag ok">0</span>' in done.group(1)

    # A later policy drops the mailer: what the logs hold about it is still shown, apart.
    doc: dict[str, Any] = yaml.safe_load(policy_with_recipient(world.cid))
    doc["version"], doc["effective"] = "2.0", "2024-06-01"
    doc["recipients"][0]["id"] = "newsletter_co"
    with transaction(world.sessions) as s:
        PolicyStore(s).publish(world.cid, yaml.safe_dump(doc, allow_unicode=True), source="p2.yaml", actor="test")
    later = client.get("/admin/recipients").text
    assert "In the logs but not in the policy in force" in later
    assert '<strong class="big">3</strong>' in _counts(later, "mailer")
    assert "None logged." in _counts(later, "newsletter_co")


def test_consent_statistics_per_purpose_with_a_period(app: FastAPI, sessions: sessionmaker[Session],
                                                      keyring: Keyring) -> None:
    with transaction(sessions) as s:
        cid = make_controller(s)
    publish_policy(sessions, cid)
    with transaction(sessions) as s:
        directory = SubjectDirectory(s, keyring)
        people = [directory.resolve(cid, "email", f"p{n}@example.com", actor="test").id for n in range(3)]
        terms = load_terms(s, cid, dt.date.today())
        ConsentLedger(s, keyring).record_many(cid, [
            *(ConsentIn(subject_id=p, purpose="marketing") for p in people),
            ConsentIn(subject_id=people[0], purpose="marketing", action="withdraw"),
            ConsentIn(subject_id=people[1], purpose="payouts", action="refuse")], terms, actor="test")
    with transaction(sessions) as s:
        PolicyStore(s).publish(cid, widened(cid), source="test", actor="test")
    with transaction(sessions) as s:
        ConsentLedger(s, keyring).supersede_outdated(cid, load_terms(s, cid, dt.date.today()), actor="test")
        ConsentLedger(s, keyring).record(cid, ConsentIn(subject_id=people[1], purpose="marketing"),
                                         load_terms(s, cid, dt.date.today()), actor="test")

    client = staff_client(app, sessions, cid)
    page = client.get("/admin/consents")
    assert page.status_code == 200

    def cell(html: str, row: str, name: str) -> str:
        found = re.search(rf'id="{row}">.*?<td class="{name}">([^<]*)</td>', html, re.S)
        assert found, (row, name)
        return found.group(1)

    assert [cell(page.text, "purpose-marketing", c) for c in ("granted-now", "grants", "refusals", "withdrawals")] \
        == ["1", "4", "0", "1"]
    assert cell(page.text, "purpose-payouts", "refusals") == "1"
    assert [cell(page.text, "reconsent-marketing-2.0", c) for c in ("asked", "regranted")] == ["2", "1"]
    assert '<span class="percent">50%</span>' in page.text

    today = dt.date.today()
    old = client.get("/admin/consents?from=2000-01-01&to=2000-12-31").text
    assert [cell(old, "purpose-marketing", c) for c in ("granted-now", "grants")] == ["1", "0"]
    assert "No policy change asked for fresh consent in this period." in old
    now = client.get(f"/admin/consents?from={today - dt.timedelta(days=1)}&to={today + dt.timedelta(days=1)}").text
    assert cell(now, "purpose-marketing", "grants") == "4"
    backwards = client.get("/admin/consents?from=2024-02-01&to=2024-01-01")
    assert backwards.status_code == 400 and "The period ends before it starts" in backwards.text
    assert client.get("/admin/consents?from=not-a-date").status_code == 400

    with transaction(sessions) as s:
        other = make_controller(s)
    publish_policy(sessions, other)
    theirs = staff_client(app, sessions, other).get("/admin/consents").text
    assert cell(theirs, "purpose-marketing", "grants") == "0" and "reconsent-marketing" not in theirs


@pytest.mark.parametrize("lang", list(Lang))
def test_the_console_views_in_every_language(app: FastAPI, world: World, lang: Lang) -> None:
    with transaction(world.sessions) as s:
        DisclosureLog(s).record(world.cid, world.ann, recipient_id="mailer", categories=["contact.email"],
                                actor="test")
    world.submit_verified("erasure")
    missing = app.state.ui.catalogues.missing
    missing.clear()
    client = staff_client(app, world.sessions, world.cid, lang=lang.value)
    pages = [client.get(p) for p in ("/admin/datamap", "/admin/datamap?version=1", "/admin/recipients",
                                     "/admin/consents", "/admin/consents?from=2024-02-01&to=2024-01-01")]
    assert [p.status_code for p in pages] == [200, 200, 200, 200, 400]
    assert all(f'<html lang="{lang.value}">' in p.text for p in pages)
    assert not missing, sorted(m for _, m in missing)
    if lang is not Lang.EN:
        assert not any("Data map" in p.text or "Recipients" in p.text for p in pages)
