from __future__ import annotations

import pytest

from charter.core.errors import CharterError
from charter.subjects.normalise import IdentityKind, normalise, parse_kind


@pytest.mark.parametrize(("raw", "region", "expected"), [
    ("138 0013 8000", "CN", "+8613800138000"),
    ("+86 138-0013-8000", "HK", "+8613800138000"),
    ("5123 4567", "HK", "+85251234567"),
    ("+852 5123 4567", "CN", "+85251234567"),
])
def test_phone_numbers_become_e164(raw: str, region: str, expected: str) -> None:
    assert normalise(IdentityKind.PHONE, raw, region) == expected


def test_email_is_trimmed_and_lowercased() -> None:
    assert normalise(IdentityKind.EMAIL, "  Li.Lei@Example.COM ") == "li.lei@example.com"


@pytest.mark.parametrize(("kind", "raw", "field"), [
    (IdentityKind.PHONE, "12345", "phone"),
    (IdentityKind.PHONE, "not a number", "phone"),
    (IdentityKind.EMAIL, "no-at-sign", "email"),
    (IdentityKind.ACCOUNT_ID, " ", "account_id"),
])
def test_bad_values_name_their_field(kind: IdentityKind, raw: str, field: str) -> None:
    with pytest.raises(CharterError) as err:
        normalise(kind, raw)
    assert err.value.field == field
    assert err.value.fix


def test_unknown_kind_lists_the_known_ones() -> None:
    with pytest.raises(CharterError, match="unknown identity type 'passport'") as err:
        parse_kind("passport")
    assert "email" in err.value.fix
