"""argon2id password hashing (LAN-SECURITY)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # argon2id with the library's RFC 9106 low-memory profile

MIN_LENGTH = 10


def hash_password(password: str) -> str:
    return str(_hasher.hash(password))


def verify_password(stored: str, password: str) -> bool:
    try:
        return bool(_hasher.verify(stored, password))
    except (VerificationError, InvalidHashError):
        return False
