"""Webhook signatures: HMAC-SHA256 over `timestamp.body`, so a receiver can check origin and freshness.

A host verifying a request from Charter:

    ok = verify_signature(secret, request.headers["X-Charter-Timestamp"], body,
                          request.headers["X-Charter-Signature"])
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Charter-Signature"
TIMESTAMP_HEADER = "X-Charter-Timestamp"
TOLERANCE_SECONDS = 300


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(secret: str, timestamp: str, body: bytes, signature: str, *,
                     now: float | None = None, tolerance: int = TOLERANCE_SECONDS) -> bool:
    """True when the signature matches and the timestamp is within `tolerance` seconds (replays fail)."""
    try:
        age = abs((time.time() if now is None else now) - int(timestamp))
    except ValueError:
        return False
    return age <= tolerance and hmac.compare_digest(sign(secret, timestamp, body), signature)
