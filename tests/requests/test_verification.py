"""Host assertions: signed, short-lived, single use. Codes: hashed, expiring, locked after five wrong tries."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from charter.core.crypto import Keyring
from charter.requests.interfaces import NullQueue
from charter.requests.models import UsedAssertion, VerificationChallenge
from charter.requests.staff import StaffDesk
from charter.requests.tasks import Sweeper
from charter.requests.verification import (
    VerificationFailed,
    VerificationLocked,
    mint_assertion,
    read_assertion,
)
from tests.requests.world import ANN_EMAIL, shop_world

KEY = b"k" * 32


def test_an_assertion_is_checked_for_signature_expiry_and_lifetime() -> None:
    token = mint_assertion(KEY, "acme", "account_id", "u-1", ttl=60, now=1000)
    assert read_assertion(KEY, token, now=1030).value == "u-1"
    with pytest.raises(VerificationFailed, match="expired"):
        read_assertion(KEY, token, now=1061)
    with pytest.raises(VerificationFailed, match="signature"):
        read_assertion(b"x" * 32, token, now=1030)
    with pytest.raises(VerificationFailed, match="form"):
        read_assertion(KEY, "nonsense", now=1030)
    with pytest.raises(ValueError, match="300"):
        mint_assertion(KEY, "acme", "email", "a@b.cn", ttl=301)


def test_a_host_assertion_verifies_at_once_and_only_once(sessions: sessionmaker[Session], keyring: Keyring,
                                                         tmp_path: Path) -> None:
    with shop_world(sessions, keyring, tmp_path) as world:
        with sessions() as session, session.begin():
            key = StaffDesk(session, keyring).issue_assertion_key(world.cid, actor="test").value.encode()
        token = mint_assertion(key, world.cid, "email", ANN_EMAIL)
        with sessions() as session, session.begin():
            submitted = world.service(session).submit(world.cid, kind="access", assertion=token, actor="host")
            assert submitted.token and submitted.request.status == "executing"
        with sessions() as session, pytest.raises(VerificationFailed, match="used already"):
            world.service(session).submit(world.cid, kind="access", assertion=token, actor="host")
        other = mint_assertion(key, "someone-else", "email", ANN_EMAIL)
        with sessions() as session, pytest.raises(VerificationFailed, match="another controller"):
            world.service(session).submit(world.cid, kind="access", assertion=other, actor="host")
        assert world.worker.wait_idle()


def test_the_sweeper_forgets_used_assertions_only_long_after_they_expired(
        sessions: sessionmaker[Session], keyring: Keyring, tmp_path: Path) -> None:
    with shop_world(sessions, keyring, tmp_path) as world:
        with sessions() as session, session.begin():
            key = StaffDesk(session, keyring).issue_assertion_key(world.cid, actor="test").value.encode()
        token = mint_assertion(key, world.cid, "email", ANN_EMAIL)
        with sessions() as session, session.begin():
            world.service(session).submit(world.cid, kind="access", assertion=token, actor="host")
            now = dt.datetime.now(dt.UTC)
            session.add_all([UsedAssertion(controller_id=world.cid, nonce_hash="old" * 20,
                                           expires_at=now - dt.timedelta(minutes=11)),
                             UsedAssertion(controller_id=world.cid, nonce_hash="recent" * 10,
                                           expires_at=now - dt.timedelta(minutes=9))])
        Sweeper(sessions, NullQueue()).sweep()
        with sessions() as session:
            kept = set(session.execute(select(UsedAssertion.nonce_hash)
                                       .where(UsedAssertion.controller_id == world.cid)).scalars())
        assert "old" * 20 not in kept and "recent" * 10 in kept and len(kept) == 2  # the fresh one stays too
        with sessions() as session, pytest.raises(VerificationFailed, match="used already"):
            world.service(session).submit(world.cid, kind="access", assertion=token, actor="host")
        assert world.worker.wait_idle()


def test_wrong_codes_lock_the_request_and_an_expired_code_fails(sessions: sessionmaker[Session], keyring: Keyring,
                                                                 tmp_path: Path) -> None:
    with shop_world(sessions, keyring, tmp_path) as world:
        with sessions() as session, session.begin():
            rid = world.service(session).submit(world.cid, kind="access", identity_kind="email",
                                                identity_value=ANN_EMAIL, actor="t").request.id
        code = world.last_code()
        wrong = "000000" if code != "000000" else "111111"
        for _ in range(4):
            with sessions() as session, session.begin(), pytest.raises(VerificationFailed, match="wrong or has"):
                world.service(session).verify(world.cid, rid, wrong, actor="t")
        with sessions() as session, session.begin(), pytest.raises(VerificationFailed):
            world.service(session).verify(world.cid, rid, wrong, actor="t")
        with sessions() as session, session.begin(), pytest.raises(VerificationLocked):
            world.service(session).verify(world.cid, rid, code, actor="t")
        with sessions() as session, session.begin():
            challenge = session.get(VerificationChallenge, rid)
            assert challenge is not None and code not in challenge.code_hash
            challenge.locked_until = None
            challenge.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        with sessions() as session, session.begin(), pytest.raises(VerificationFailed, match="expired"):
            world.service(session).verify(world.cid, rid, code, actor="t")
        time.sleep(0)
