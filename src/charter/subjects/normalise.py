"""Identity values are normalised before hashing, so `A@X.com ` and `a@x.com` find the same person."""

from __future__ import annotations

import re
from enum import StrEnum

import phonenumbers

from charter.core.errors import CharterError

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ACCOUNT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$")


class IdentityKind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    ACCOUNT_ID = "account_id"
    VISITOR_ID = "visitor_id"


def parse_kind(kind: str) -> IdentityKind:
    try:
        return IdentityKind(kind)
    except ValueError as exc:
        raise CharterError(f"unknown identity type {kind!r}", field="kind",
                           fix=f"Use one of: {', '.join(k.value for k in IdentityKind)}.") from exc


def normalise_email(value: str) -> str:
    email = value.strip().lower()
    if not _EMAIL.match(email):
        raise CharterError("the email address is not valid", field="email",
                           fix="Give it as name@example.com.")
    return email


def normalise_phone(value: str, default_region: str = "CN") -> str:
    """E.164. Numbers without a country code are read as mainland (CN) numbers unless told otherwise."""
    try:
        number = phonenumbers.parse(value, default_region)
    except phonenumbers.NumberParseException as exc:
        raise CharterError("the phone number could not be read", field="phone",
                           fix="Give it with its country code, e.g. +86 138 0013 8000 or +852 5123 4567.") from exc
    if not phonenumbers.is_valid_number(number):
        raise CharterError("the phone number is not a valid number", field="phone",
                           fix="Check the digits and the country code (+86 mainland, +852 Hong Kong).")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise(kind: IdentityKind, value: str, default_region: str = "CN") -> str:
    if kind is IdentityKind.EMAIL:
        return normalise_email(value)
    if kind is IdentityKind.PHONE:
        return normalise_phone(value, default_region)
    value = value.strip()
    if not _ACCOUNT.match(value):
        raise CharterError(f"the {kind.value} is not valid", field=kind.value,
                           fix="Use up to 128 letters, digits and . _ : @ -, starting with a letter or digit.")
    return value
