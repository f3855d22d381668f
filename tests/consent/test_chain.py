"""The ledger's pure chain: every 27560 field is in the hash, and a replay keeps the last event per purpose."""

from __future__ import annotations

import datetime as dt
from typing import Any

from charter.audit.chain import GENESIS
from charter.consent.chain import (
    HASHED_FIELDS,
    KIND_FIELDS,
    LedgerLink,
    body_of,
    commitment,
    event_hash,
    fields_body,
    kind_body,
    replay,
    verify_chain,
)

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


def test_the_hash_spelling_is_stable() -> None:
    """Hashes already in ledgers must keep verifying: the bytes hashed never change (pinned value)."""
    f: dict[str, Any] = {k: f"v-{k}" for k in HASHED_FIELDS}
    f.update(at=dt.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC), valid_until=None, gpc=True,
             linked_from=None, guardian_commitment=None)
    assert event_hash("acme", 42, "sha256:" + "ab" * 32, f) == (
        "sha256:9a9147f5815d848bc0b3fa15cb028e553246368f6098272feeccac8da2f50e99")


def test_a_batch_builds_the_very_bytes_fields_body_spells() -> None:
    """The write path joins the fields events of one kind share once (`kind_body`) and adds each event's own
    (`body_of`): the bytes hashed must be `fields_body`'s, or verification would fail."""
    variants: list[dict[str, Any]] = [
        {}, {"valid_until": AT + dt.timedelta(days=30)}, {"valid_until": AT.replace(tzinfo=None)}, {"gpc": True},
        {"request_id": "req-1"}, {"guardian_commitment": "sha256:g"}, {"linked_from": "r0"},
        {"language": "zh-TW", "jurisdiction": "HK", "policy_version": "2025-01", "notice": "clause:6"},
        {"at": AT.replace(microsecond=5)}, {"actor": "api_key:其他"},
        {"valid_until": AT, "gpc": True, "request_id": "r:2", "guardian_commitment": "sha256:h", "linked_from": "x"},
    ]
    for change in variants:
        f = fields(**change)
        kind = kind_body(f[name] for name in KIND_FIELDS)
        built = body_of(f["record_id"], f["subject_commitment"], kind, valid_until=f["valid_until"], gpc=f["gpc"],
                        request_id=f["request_id"], evidence_commitment=f["evidence_commitment"],
                        guardian_commitment=f["guardian_commitment"], linked_from=f["linked_from"], actor=f["actor"])
        assert built == fields_body(f), change
    assert KIND_FIELDS == ("action", "purpose", "consent_kind", "policy_version", "policy_hash", "notice",
                           "language", "method", "channel", "jurisdiction", "at")
