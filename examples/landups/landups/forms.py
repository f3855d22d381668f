"""Submitted forms and their errors: pure, so services validate without knowing about HTTP."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

from landups.identifiers import Invalid

T = TypeVar("T")


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str
    data: bytes
    too_large: bool = False   # the web layer stops reading past the limit and says so here


@dataclass(frozen=True)
class Form:
    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, Upload] = field(default_factory=dict)

    def raw(self, name: str) -> str:
        return self.fields.get(name, "")

    def text(self, name: str) -> str:
        return self.fields.get(name, "").strip()


class ValidationFailed(Exception):
    """Bad input: `errors` maps each field to the message key that says what is wrong. Nothing was stored."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class FieldErrors(dict[str, str]):
    def check(self, name: str, clean: Callable[[str], T], value: str) -> T:
        """`clean(value)`, or record its error for `name` and return a placeholder (never stored: see raise_if_any)."""
        try:
            return clean(value)
        except Invalid as exc:
            self[name] = exc.key
            return value  # type: ignore[return-value]

    def raise_if_any(self) -> None:
        if self:
            raise ValidationFailed(dict(self))


def clean_future_date(value: str, today: date) -> date:
    try:
        parsed = date.fromisoformat(value.strip())
    except ValueError as exc:
        raise Invalid("err.date") from exc
    if parsed < today or (parsed - today).days > 366:
        raise Invalid("err.date_range")
    return parsed


def clean_int(value: str, low: int, high: int) -> int:
    try:
        number = int(value.strip())
    except ValueError as exc:
        raise Invalid("err.number") from exc
    if not low <= number <= high:
        raise Invalid("err.number")
    return number
