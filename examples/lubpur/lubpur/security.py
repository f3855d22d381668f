"""Passwords (argon2id), random tokens stored only as hashes, and CSRF tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verified against when the account does not exist, so a wrong email costs the same time as a wrong password.
_DUMMY_HASH = _hasher.hash("lubpur-timing-equaliser")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(secret: str, session_key: str) -> str:
    """Bound to the browser's CSRF cookie value, so a token from another browser is worthless."""
    return hmac.new(secret.encode(), session_key.encode(), hashlib.sha256).hexdigest()


def is_csrf_valid(secret: str, session_key: str, token: str) -> bool:
    return bool(session_key) and hmac.compare_digest(csrf_token(secret, session_key), token)
