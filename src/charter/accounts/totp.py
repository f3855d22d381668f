"""Time-based one-time passwords (RFC 6238) for staff, the second factor of the admin console.

A code is accepted for the current 30-second step and one step either side (clock drift), and each step only
once: a code seen on the wire cannot be replayed.
"""

from __future__ import annotations

import hmac
import time

import pyotp

DIGITS = 6
INTERVAL = 30
DRIFT_STEPS = 1


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, *, account: str, issuer: str) -> str:
    """The `otpauth://` URI an authenticator app takes (typed in, or pasted)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL).provisioning_uri(name=account, issuer_name=issuer)


def current_code(secret: str, at: float | None = None) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL).at(time.time() if at is None else at)


def matching_step(secret: str, code: str, *, last_step: int | None, at: float | None = None) -> int | None:
    """The time step `code` belongs to, if it is valid now and newer than `last_step`; else None."""
    code = "".join(code.split())
    if len(code) != DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL)
    now_step = int((time.time() if at is None else at) // INTERVAL)
    for step in range(now_step - DRIFT_STEPS, now_step + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.at(step * INTERVAL), code):
            return step if last_step is None or step > last_step else None
    return None
