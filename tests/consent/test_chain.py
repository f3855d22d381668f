"""The ledger's pure chain: every 27560 field is in the hash, and a replay keeps the last event per purpose."""

from __future__ import annotations

import datetime as dt
from typing import Any

from charter.audit.chain import GENESIS
from charter.consent.chain import HASHED_FIELDS, LedgerLink, commitment, event_hash, replay, verify_chain

AT = dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def fields(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "record_id": "r1", "subject_commitment": commitment("salt", "subject", "s1"), "action": "grant",
        "purpose": "analytics", "consent_kind": "general", "policy_version": "1", "policy_hash": "sha256:p",
        "notice": "banner", "language": "en", "method": "button", "channel": "banner", "jurisdiction": "CN",
        "at": AT, "valid_until": None, "gpc": False, "request_id": None, "evidence_commitment": "sha256:e",
        "guardian_commitment": None, "linked_from": None, "actor": "api_key:k"}
    return {**base, **changes}


def test_every_hashed_field_changes_the_hash() -> None:
    original = event_hash("c", 1, GENESIS, fields())
    other = {"at": AT + dt.timedelta(microseconds=1), "valid_until": AT, "gpc": True}
    for name in HASHED_FIELDS:
        changed = fields(**{name: other.get(name, "x")})
        assert event_hash("c", 1, GENESIS, changed) != original, name
    assert event_hash("c", 2, GENESIS, fields()) != original
    assert event_hash("d", 1, GENESIS, fields()) != original
    assert event_hash("c", 1, "sha256:other", fields()) != original
    assert event_hash("c", 1, GENESIS, fields(request_id="")) != event_hash("c", 1, GENESIS, fields())


def test_verification_finds_a_removed_or_reordered_event() -> None:
    links, prev = [], GENESIS
    for seq in (1, 2, 3):
        f = fields(record_id=f"r{seq}")
        digest = event_hash("c", seq, prev, f)
        links.append(LedgerLink("c", seq, prev, digest, f))
        prev = digest
    assert verify_chain(links, 3, prev).ok
    assert verify_chain([links[0], links[2]], 3, prev).broken_at == 2
    assert not verify_chain(links[:2], 3, prev).ok  # the newest event removed: the head says 3


def test_replay_keeps_the_last_event_per_subject_and_purpose() -> None:
    events = [
        {**fields(record_id="r1"), "subject_id": "s1", "seq": 1},
        {**fields(record_id="r2", action="withdraw"), "subject_id": "s1", "seq": 2},
        {**fields(record_id="r3", purpose="marketing"), "subject_id": "s1", "seq": 3},
        {**fields(record_id="r4"), "subject_id": None, "seq": 4},  # an erased subject's tombstone
    ]
    state = replay(events)
    assert {k: (v.status, v.record_id) for k, v in state.items()} == {
        ("s1", "analytics"): ("withdrawn", "r2"), ("s1", "marketing"): ("granted", "r3")}
