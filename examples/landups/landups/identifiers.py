"""Identifier checks for what Landups collects: pure functions, no I/O.

Each `clean_*` returns the canonical form or raises `Invalid` with a message key (see `landups.messages`), so
the web layer can name the field and say what is wrong in the visitor's language.
"""

from __future__ import annotations

import re
from enum import StrEnum

import phonenumbers
from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError


class Invalid(ValueError):
    """`key` names the message that says what is wrong (`err.id_checksum`, …)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class IdType(StrEnum):
    CN_RIC = "cn_ric"   # mainland Resident Identity Card (居民身份证), 18 characters
    HKID = "hkid"       # Hong Kong Identity Card (香港身份證)


_HKID = re.compile(r"^([A-Z]{1,2})([0-9]{6})([0-9A])$")


def hkid_check_digit(prefix: str, digits: str) -> str:
    """The check digit of a Hong Kong identity card number.

    Letters count A=10 … Z=35 and a missing second letter counts as a space, 36; the eight characters are weighted
    9 down to 2; the check digit makes the weighted sum (check digit weighted 1, `A` = 10) divisible by 11.

    >>> hkid_check_digit("A", "123456")
    '3'
    """
    chars = prefix.rjust(2)
    total = sum((36 if ch == " " else ord(ch) - 55) * w for ch, w in zip(chars, (9, 8), strict=True))
    total += sum(int(d) * w for d, w in zip(digits, range(7, 1, -1), strict=True))
    check = (11 - total % 11) % 11
    return "A" if check == 10 else str(check)


def clean_hkid(value: str) -> str:
    """`a123456(3)`, `A 123456 3` … → `A123456(3)`."""
    compact = re.sub(r"[\s()（）]", "", value).upper()
    match = _HKID.match(compact)
    if not match:
        raise Invalid("err.hkid_format")
    prefix, digits, check = match.groups()
    if hkid_check_digit(prefix, digits) != check:
        raise Invalid("err.id_checksum")
    return f"{prefix}{digits}({check})"


def clean_cn_ric(value: str) -> str:
    """An 18-character mainland resident ID: format, region, birth date and the ISO 7064 check character."""
    try:
        return str(ric.validate(re.sub(r"\s", "", value).upper()))
    except InvalidChecksum as exc:
        raise Invalid("err.id_checksum") from exc
    except (InvalidComponent, InvalidLength, InvalidFormat, ValidationError) as exc:
        raise Invalid("err.ric_format") from exc


def clean_id_number(id_type: str, value: str) -> str:
    if id_type == IdType.HKID:
        return clean_hkid(value)
    if id_type == IdType.CN_RIC:
        return clean_cn_ric(value)
    raise Invalid("err.id_type")


def mask_id_number(number: str) -> str:
    """Only the first character and the check character show: `A******(3)`, `1****************X`."""
    positions = [i for i, ch in enumerate(number) if ch.isalnum()]
    if len(positions) < 3:
        return "*" * len(number)
    keep = {positions[0], positions[-1]}
    return "".join(ch if i in keep or not ch.isalnum() else "*" for i, ch in enumerate(number))


def clean_uscc(value: str) -> str:
    """The 18-character Unified Social Credit Code (统一社会信用代码) with its GB 32100 check character."""
    try:
        return str(uscc.validate(re.sub(r"\s", "", value).upper()))
    except InvalidChecksum as exc:
        raise Invalid("err.uscc_checksum") from exc
    except ValidationError as exc:
        raise Invalid("err.uscc_format") from exc


def clean_phone(value: str) -> str:
    """A phone number in E.164; without a country code it is read as a Hong Kong number."""
    try:
        parsed = phonenumbers.parse(value.strip(), "HK")
    except phonenumbers.NumberParseException as exc:
        raise Invalid("err.phone") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise Invalid("err.phone")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


_EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})+$")


def clean_email(value: str) -> str:
    email = value.strip()
    if len(email) > 254 or not _EMAIL.match(email):
        raise Invalid("err.email")
    local, _, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


def clean_contact(value: str) -> str:
    """Contact information for a contact person: a phone number or an email address."""
    text = value.strip()
    if "@" in text:
        return clean_email(text)
    return clean_phone(text)


_DOMAIN = re.compile(r"^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$")


def clean_domain(value: str) -> str:
    domain = value.strip().lower().removeprefix("http://").removeprefix("https://").rstrip("/")
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise Invalid("err.domain") from exc
    if not _DOMAIN.match(domain):
        raise Invalid("err.domain")
    return domain


def clean_bank_account(value: str) -> str:
    """A bank account number: 8 to 20 digits once spaces and hyphens are dropped (HK 9–12, mainland 16–19)."""
    digits = re.sub(r"[\s-]", "", value)
    if not digits.isascii() or not digits.isdigit() or not 8 <= len(digits) <= 20:
        raise Invalid("err.bank_account")
    return digits


def mask_bank_account(number: str) -> str:
    """`•••• 6789`: the last four digits, nothing else."""
    return "•••• " + number[-4:]


def clean_text(value: str, *, max_length: int, required: bool = True) -> str:
    text = " ".join(value.split())
    if required and not text:
        raise Invalid("err.required")
    if len(text) > max_length:
        raise Invalid("err.too_long")
    return text
