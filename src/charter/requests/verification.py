"""Proving who is asking: a six-digit code sent to the person's email or phone through the outbox, or a short
signed assertion from the host for a person already logged in there.

Codes are stored as keyed hashes, expire after ten minutes and lock the request after five wrong tries. An
assertion is `v1.<payload>.<signature>` (base64url), the payload JSON `{"c": controller, "k": identity kind,
"v": value, "exp": unix time, "n": nonce}`, signed with HMAC-SHA256 under the controller's assertion key; it
lives at most five minutes and is accepted once.

```python
token = mint_assertion(key, "lubpur", "account_id", "u-1042")          # the host, for its logged-in user
```
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, delete, insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from charter.core.crypto import Keyring
from charter.core.errors import CharterError
from charter.requests.models import RequestSettings, UsedAssertion, VerificationChallenge

__all__ = [
    "CODE_TTL",
    "MAX_ASSERTION_SECONDS",
    "MAX_ATTEMPTS",
    "Assertion",
    "Challenges",
    "VerificationFailed",
    "VerificationLocked",
    "mint_assertion",
    "prune_used_assertions",
    "read_assertion",
]

CODE_TTL = dt.timedelta(minutes=10)
MAX_ATTEMPTS = 5
LOCKOUT = dt.timedelta(minutes=30)
MAX_ASSERTION_SECONDS = 300
_RESENDS = 3


class VerificationFailed(CharterError):
    code = "verification_failed"


class VerificationLocked(CharterError):
    status = 429
    code = "verification_locked"


def _wrong() -> VerificationFailed:
    # One message for a wrong, expired or unknown code: the answer never tells whether the person exists.
    return VerificationFailed("the code is wrong or has expired", field="code",
                              fix="Enter the six digits from the latest message, or ask for a new code.")


def _as_utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


class Challenges:
    """Six-digit codes for one request each."""

    def __init__(self, session: Session, keyring: Keyring) -> None:
        self.session = session
        self.keyring = keyring

    def _hash(self, controller_id: str, request_id: str, code: str) -> str:
        return self.keyring.blind_index(f"{controller_id}:request-code:{request_id}", code)

    def issue(self, controller_id: str, request_id: str, *, deliverable: bool, now: dt.datetime) -> str | None:
        """A new code for the request; None (and a challenge nobody can meet) when there is no one to send it to."""
        code = f"{secrets.randbelow(10**6):06d}"
        digest = self._hash(controller_id, request_id, code if deliverable else secrets.token_hex(16))
        challenge = self.session.get(VerificationChallenge, request_id)
        if challenge is None:
            challenge = VerificationChallenge(request_id=request_id, controller_id=controller_id, attempts=0, sends=0)
            self.session.add(challenge)
        elif challenge.sends >= _RESENDS:
            raise VerificationLocked("too many codes were asked for this request", field="request_id",
                                     fix="Submit a new request later.")
        challenge.code_hash, challenge.expires_at = digest, now + CODE_TTL
        challenge.sends = (challenge.sends or 0) + 1
        self.session.flush()
        return code if deliverable else None

    def check(self, controller_id: str, request_id: str, code: str, *, now: dt.datetime) -> None:
        """Raise unless `code` is the request's current, unexpired code; wrong tries count towards a lockout."""
        challenge = self.session.get(VerificationChallenge, request_id, with_for_update=True)
        if challenge is None or challenge.controller_id != controller_id:
            raise _wrong()
        if challenge.locked_until is not None and _as_utc(challenge.locked_until) > now:
            raise VerificationLocked("too many wrong codes: verification is locked for a while", field="code",
                                     fix="Wait 30 minutes, then ask for a new code.")
        given = code.strip()
        ok = given.isdigit() and len(given) == 6 and hmac.compare_digest(
            challenge.code_hash, self._hash(controller_id, request_id, given))
        if ok and _as_utc(challenge.expires_at) > now:
            self.session.delete(challenge)
            self.session.flush()
            return
        challenge.attempts += 1
        if challenge.attempts >= MAX_ATTEMPTS:
            challenge.locked_until, challenge.attempts = now + LOCKOUT, 0
        self.session.flush()
        raise _wrong()


@dataclass(frozen=True)
class Assertion:
    controller_id: str
    kind: str
    value: str
    expires: int
    nonce: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def mint_assertion(key: bytes, controller_id: str, kind: str, value: str, *, ttl: int = 120,
                   now: float | None = None) -> str:
    """An assertion that the host's logged-in user is known by `kind`/`value`, valid for `ttl` seconds (≤ 300).

    >>> mint_assertion(key, "lubpur", "account_id", "u-1042")
    'v1.eyJjIjoi…'
    """
    if not 0 < ttl <= MAX_ASSERTION_SECONDS:
        raise ValueError(f"ttl must be between 1 and {MAX_ASSERTION_SECONDS} seconds")
    issued = int(now if now is not None else time.time())
    payload = json.dumps({"c": controller_id, "k": kind, "v": value, "exp": issued + ttl,
                          "n": secrets.token_hex(12)}, separators=(",", ":")).encode()
    body = _b64(payload)
    signature = hmac.new(key, f"v1.{body}".encode(), hashlib.sha256).digest()
    return f"v1.{body}.{_b64(signature)}"


def _invalid(why: str) -> VerificationFailed:
    return VerificationFailed(f"the host's assertion is not valid: {why}", field="assertion",
                              fix="Mint a fresh assertion with the controller's assertion key just before the call.")


def read_assertion(key: bytes, token: str, *, now: float | None = None) -> Assertion:
    """Check the signature and expiry; raise `VerificationFailed` saying what was wrong."""
    parts = token.strip().split(".")
    if len(parts) != 3 or parts[0] != "v1":
        raise _invalid("it is not of the form v1.<payload>.<signature>")
    expected = hmac.new(key, f"v1.{parts[1]}".encode(), hashlib.sha256).digest()
    try:
        good = hmac.compare_digest(expected, _unb64(parts[2]))
        raw = json.loads(_unb64(parts[1]))
    except ValueError:
        raise _invalid("it could not be decoded") from None
    if not good:
        raise _invalid("the signature does not match")
    at = now if now is not None else time.time()
    expires = int(raw.get("exp", 0))
    if expires <= at:
        raise _invalid("it has expired")
    if expires - at > MAX_ASSERTION_SECONDS:
        raise _invalid(f"it is valid for longer than {MAX_ASSERTION_SECONDS} seconds")
    return Assertion(str(raw["c"]), str(raw["k"]), str(raw["v"]), expires, str(raw["n"]))


def assertion_key_context(controller_id: str) -> str:
    return f"request_settings.assertion_key:{controller_id}"


def assertion_key(session: Session, keyring: Keyring, controller_id: str) -> bytes | None:
    row = session.get(RequestSettings, controller_id)
    if row is None or row.assertion_key_encrypted is None:
        return None
    return keyring.decrypt(row.assertion_key_encrypted, assertion_key_context(controller_id)).encode()


_SPENT_KEPT = dt.timedelta(minutes=10)
"""How long a used assertion is remembered after it expired (clocks of host and Charter may differ)."""


_USED = cast(Table, UsedAssertion.__table__)
_SPEND = {name: build(_USED).on_conflict_do_nothing().returning(_USED.c.nonce_hash)
          for name, build in (("postgresql", pg_insert), ("sqlite", sqlite_insert))}
"""Per dialect, the INSERT that records a used assertion unless its nonce is there (built once)."""
_SPEND_IGNORING = insert(_USED).prefix_with("IGNORE")


def _spend(session: Session, values: dict[str, Any]) -> bool:
    """Record a used assertion; False when its nonce is there already. One statement, where a SELECT and a
    savepoint around the INSERT were four."""
    statement = _SPEND.get(session.get_bind().dialect.name)
    if statement is not None:
        return session.execute(statement, values).first() is not None
    ignored = session.execute(_SPEND_IGNORING, values)
    return bool(ignored.rowcount == 1)  # type: ignore[attr-defined]


def accept_assertion(session: Session, keyring: Keyring, controller_id: str, token: str) -> Assertion:
    """Verify a host assertion for this controller and spend it: the same assertion twice is refused."""
    key = assertion_key(session, keyring, controller_id)
    if key is None:
        raise CharterError("this controller has no assertion key yet", field="assertion",
                           fix="Issue one with POST /v1/admin/requests/assertion-key and sign with it.")
    assertion = read_assertion(key, token)
    if assertion.controller_id != controller_id:
        raise _invalid("it was made for another controller")
    nonce_hash = hashlib.sha256(assertion.nonce.encode()).hexdigest()
    if not _spend(session, {"controller_id": controller_id, "nonce_hash": nonce_hash,
                            "expires_at": dt.datetime.fromtimestamp(assertion.expires, dt.UTC)}):
        raise _invalid("it was used already")
    return assertion


def prune_used_assertions(session: Session, now: dt.datetime) -> int:
    """Forget used assertions that expired more than ten minutes ago (they would be refused as expired anyway);
    the sweeper does it in the background, so accepting one stays a single statement. Returns how many."""
    pruned = session.execute(delete(UsedAssertion).where(UsedAssertion.expires_at < now - _SPENT_KEPT))
    return int(pruned.rowcount)  # type: ignore[attr-defined]
