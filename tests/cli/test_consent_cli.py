"""`charter controller origins …`, `charter consent verify|sweep` and key rotation covering the ledger."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from charter.consent.models import ConsentEvent
from charter.consent.schemas import ConsentIn
from charter.consent.services import ConsentLedger
from charter.core.crypto import Keyring
from charter.core.db import make_engine, session_factory, transaction
from charter.decisions.services import load_terms
from charter.migrations import upgrade
from charter.policy.services import PolicyStore
from charter.subjects.services import SubjectDirectory
from tests.cli.test_cli import charter
from tests.factories import example_policy_text, new_controller_id


def test_origins_add_list_remove(cli_env: Path) -> None:
    cid = new_controller_id()
    assert charter("controller", "create", cid, "Acme")[0] == 0
    code, out = charter("controller", "origins", "add", "--controller", cid, "HTTPS://Shop.Example:443/")
    assert (code, "https://shop.example may now load" in out) == (0, True), out
    assert charter("controller", "origins", "add", "--controller", cid, "http://127.0.0.1:8080")[0] == 0
    code, out = charter("controller", "origins", "list", "--controller", cid)
    assert out.split() == ["http://127.0.0.1:8080", "https://shop.example"]
    code, out = charter("controller", "origins", "add", "--controller", cid, "https://shop.example/path?x=1")
    assert code == 1
    assert "not a web origin" in out
    assert charter("controller", "origins", "remove", "--controller", cid, "https://shop.example")[0] == 0
    code, out = charter("controller", "origins", "remove", "--controller", cid, "https://shop.example")
    assert code == 1
    assert charter("controller", "origins", "list", "--controller", cid)[1].split() == ["http://127.0.0.1:8080"]


def _ledger_with_one_grant(sessions: sessionmaker[Session], keyring: Keyring) -> tuple[str, str]:
    cid = new_controller_id()
    assert charter("controller", "create", cid, "Acme")[0] == 0
    with transaction(sessions) as s:
        PolicyStore(s).publish(cid, example_policy_text(cid), source="test", actor="test")
        subject = SubjectDirectory(s, keyring).resolve(cid, "email", "a@example.com", actor="test").id
    with transaction(sessions) as s:
        terms = load_terms(s, cid, dt.date.today())
        soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
        ConsentLedger(s, keyring).record(cid, ConsentIn(subject_id=subject, purpose="analytics", valid_until=soon,
                                                        evidence={"ip": "192.0.2.1"}), terms, actor="test")
    return cid, subject


def test_consent_verify_sweep_and_key_rotation(cli_env: Path, fresh_database_url: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # Rotation re-encrypts the whole database: a database of this test's own.
    monkeypatch.setenv("CHARTER_DATABASE_URL", fresh_database_url)
    upgrade(fresh_database_url)
    engine = make_engine(fresh_database_url)
    sessions = session_factory(engine)
    assert charter("keys", "rotate")[0] == 0  # creates the keyring file on first use
    keyring = Keyring.from_json((cli_env / "keys.json").read_text())
    cid, _subject = _ledger_with_one_grant(sessions, keyring)
    code, out = charter("consent", "verify", "--controller", cid)
    assert code == 0, out
    assert "intact" in out
    time.sleep(1.1)  # the consent was valid for one second
    code, out = charter("consent", "sweep", "--controller", cid)
    assert (code, "1 consent(s) expired" in out) == (0, True), out
    code, out = charter("keys", "rotate")
    assert code == 0, out
    rotated = Keyring.from_json((cli_env / "keys.json").read_text())
    with sessions() as s:
        tokens = s.execute(select(ConsentEvent.evidence_encrypted).where(
            ConsentEvent.controller_id == cid, ConsentEvent.evidence_encrypted.is_not(None))).scalars().all()
        assert tokens
        assert all(rotated.key_id_of(t) == rotated.active for t in tokens)
        assert ConsentLedger(s, rotated).verify(cid).ok
        record = s.execute(select(ConsentEvent.record_id).where(ConsentEvent.controller_id == cid)
                           .order_by(ConsentEvent.seq)).scalars().first()
        assert ConsentLedger(s, rotated).evidence(cid, str(record)) == {"ip": "192.0.2.1"}
    assert json.loads((cli_env / "keys.json").read_text())["active"] == rotated.active
    engine.dispose()
