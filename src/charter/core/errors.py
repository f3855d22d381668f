"""Errors every layer can raise; the HTTP and CLI shells turn them into a status and a message."""

from __future__ import annotations


class CharterError(Exception):
    """A mistake the caller can fix. `message` says what was wrong, `fix` how to put it right."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, *, fix: str = "", field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix
        self.field = field

    def __str__(self) -> str:
        return f"{self.message} {self.fix}".strip()


class NotFound(CharterError):
    status = 404
    code = "not_found"


class Conflict(CharterError):
    status = 409
    code = "conflict"


class Forbidden(CharterError):
    status = 403
    code = "forbidden"


class Unauthorized(CharterError):
    status = 401
    code = "unauthorized"
