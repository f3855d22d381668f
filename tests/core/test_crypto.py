from __future__ import annotations

import pytest

from charter.core.crypto import Keyring, KeyringError


def test_round_trip_and_key_id() -> None:
    k = Keyring.generate()
    token = k.encrypt("13800138000", "identities.value:acme")
    assert token.startswith("k1:")
    assert "13800138000" not in token
    assert k.decrypt(token, "identities.value:acme") == "13800138000"


def test_a_value_moved_to_another_tenant_does_not_decrypt() -> None:
    k = Keyring.generate()
    token = k.encrypt("a@b.com", "identities.value:acme")
    with pytest.raises(KeyringError, match="authentication"):
        k.decrypt(token, "identities.value:other")


def test_rotation_keeps_old_keys_and_switches_active() -> None:
    old = Keyring.generate()
    token = old.encrypt("x", "c")
    new = old.rotated()
    assert new.active == "k2"
    assert new.decrypt(token, "c") == "x"
    assert new.key_id_of(new.encrypt("x", "c")) == "k2"
    assert new.index_key == old.index_key


def test_blind_index_is_keyed_and_scoped() -> None:
    a, b = Keyring.generate(), Keyring.generate()
    assert a.blind_index("acme:email", "x@y.com") == a.blind_index("acme:email", "x@y.com")
    assert a.blind_index("acme:email", "x@y.com") != a.blind_index("other:email", "x@y.com")
    assert a.blind_index("acme:email", "x@y.com") != b.blind_index("acme:email", "x@y.com")


def test_json_round_trip_and_bad_json() -> None:
    k = Keyring.generate()
    assert Keyring.from_json(k.to_json()).keys == k.keys
    with pytest.raises(KeyringError, match="expected shape"):
        Keyring.from_json('{"active": "k1"}')
