from __future__ import annotations

import pyotp

from charter.accounts import totp

NOW = 1_700_000_000.0


def test_a_code_is_accepted_within_one_step_of_drift_and_only_once() -> None:
    secret = totp.new_secret()
    step = int(NOW // 30)
    current = pyotp.TOTP(secret).at(NOW)
    assert totp.matching_step(secret, current, last_step=None, at=NOW) == step
    assert totp.matching_step(secret, current, last_step=step, at=NOW) is None  # replay
    earlier = pyotp.TOTP(secret).at(NOW - 30)
    assert totp.matching_step(secret, earlier, last_step=None, at=NOW) == step - 1
    assert totp.matching_step(secret, pyotp.TOTP(secret).at(NOW - 90), last_step=None, at=NOW) is None
    assert totp.matching_step(secret, f"{current[:3]} {current[3:]}", last_step=None, at=NOW) == step


def test_malformed_codes_are_refused() -> None:
    secret = totp.new_secret()
    for bad in ("", "12345", "abcdef", "1234567"):
        assert totp.matching_step(secret, bad, last_step=None, at=NOW) is None


def test_the_provisioning_uri_names_the_account_and_issuer() -> None:
    secret = totp.new_secret()
    uri = totp.provisioning_uri(secret, account="dpo@acme.example", issuer="Charter (acme)")
    assert uri.startswith("otpauth://totp/")
    assert f"secret={secret}" in uri
    assert "issuer=Charter" in uri
