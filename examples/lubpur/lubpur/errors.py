"""An input the platform refuses: a message key (in both languages via `t`), the field it concerns, and values."""

from __future__ import annotations


class InputError(Exception):
    def __init__(self, key: str, field: str = "", **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.field = field
        self.values = values


class NotFound(Exception):
    """The thing does not exist, or is not this person's: both are answered the same way."""
