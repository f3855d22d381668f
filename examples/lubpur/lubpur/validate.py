"""Checks on what people type. Each failure is an `InputError` naming the field and a message in both languages."""

from __future__ import annotations

import datetime as dt
import re

import phonenumbers

from lubpur.errors import InputError

_EMAIL = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}$")


def email(value: str, field: str = "email", *, required: bool = True) -> str:
    value = value.strip().lower()
    if not value and not required:
        return ""
    if not value or len(value) > 254 or not _EMAIL.match(value):
        raise InputError("err.email", field)
    return value


def phone(value: str, field: str = "phone", *, required: bool = True) -> str:
    value = value.strip()
    if not value and not required:
        return ""
    try:
        parsed = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException as exc:
        raise InputError("err.phone", field) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InputError("err.phone", field)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def text(value: str, field: str, *, max_len: int, required: bool = True) -> str:
    value = value.strip()
    if required and not value:
        raise InputError("err.required", field)
    if len(value) > max_len:
        raise InputError("err.too_long", field, max=max_len)
    return value


def password(value: str, field: str = "password") -> str:
    if len(value) < 10 or len(value) > 128 or not re.search(r"[A-Za-z]", value) or not re.search(r"\d", value):
        raise InputError("err.password", field)
    return value


def birth_date(value: str, field: str = "birth_date") -> dt.date:
    try:
        born = dt.date.fromisoformat(value.strip())
    except ValueError as exc:
        raise InputError("err.birth_date", field) from exc
    today = dt.date.today()
    if born > today or born.year < today.year - 120:
        raise InputError("err.birth_date", field)
    return born


def age_on(born: dt.date, day: dt.date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def digits(value: str, field: str, *, max_len: int, required: bool = False) -> str:
    value = value.strip()
    if not value and not required:
        return ""
    if not value.isdigit() or len(value) > max_len:
        raise InputError("err.digits", field)
    return value


def positive_int(value: str, field: str, *, maximum: int) -> int:
    try:
        number = int(value.strip())
    except ValueError as exc:
        raise InputError("err.quantity", field) from exc
    if number < 1 or number > maximum:
        raise InputError("err.quantity", field)
    return number
