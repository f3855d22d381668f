"""How a delivery attempt can end, and when to try again. Pure: no database, no network.

Failure reasons are written to `outbox_messages.last_error` and the audit log, so they are built from status
codes and exception class names only — never from a server's reply text, which may echo the address.
"""

from __future__ import annotations

import datetime as dt
import smtplib
from dataclasses import dataclass


class DeliveryError(Exception):
    """A delivery attempt failed; `reason` is safe to store (no personal data)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason[:300]


class TransientFailure(DeliveryError):
    """Try again later: the server was unreachable, busy, or answered 4xx."""


class PermanentFailure(DeliveryError):
    """Trying again will not help: the message fails."""


class RecipientRejected(PermanentFailure):
    """The address itself was refused: the message bounces and the address is suppressed."""


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: `base`, doubling after each failed attempt, never more than `cap`."""

    base: dt.timedelta = dt.timedelta(seconds=30)
    cap: dt.timedelta = dt.timedelta(hours=2)
    max_attempts: int = 8

    def delay(self, attempts: int) -> dt.timedelta:
        """The wait after the `attempts`-th failed attempt (1-based)."""
        return min(self.cap, self.base * (1 << max(0, min(attempts - 1, 30))))

    def gives_up_after(self, attempts: int) -> bool:
        return attempts >= self.max_attempts


_WHAT_FAILED: tuple[tuple[type[smtplib.SMTPResponseException], str], ...] = (
    (smtplib.SMTPSenderRefused, "sender refused"),
    (smtplib.SMTPDataError, "message refused"),
    (smtplib.SMTPAuthenticationError, "authentication failed (check CHARTER_SMTP_USERNAME/_PASSWORD)"),
    (smtplib.SMTPResponseException, "server error"),
)


def classify_smtp_error(exc: Exception) -> DeliveryError:
    """4xx and connection trouble → retry; 5xx on the recipient → bounced; any other 5xx → failed."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code = min((c for c, _ in exc.recipients.values()), default=550)
        if code >= 500:
            return RecipientRejected(f"SMTP {code}: recipient refused")
        return TransientFailure(f"SMTP {code}: recipient temporarily refused")
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        # Raised for STARTTLS, and for AUTH on servers that offer it only after STARTTLS.
        return PermanentFailure("the SMTP server does not offer STARTTLS or AUTH here "
                                "(check CHARTER_SMTP_STARTTLS and CHARTER_SMTP_USERNAME)")
    if isinstance(exc, smtplib.SMTPResponseException):
        what = next(w for kind, w in _WHAT_FAILED if isinstance(exc, kind))
        reason = f"SMTP {exc.smtp_code}: {what}"
        return TransientFailure(reason) if 400 <= exc.smtp_code < 500 else PermanentFailure(reason)
    return TransientFailure(f"cannot reach the SMTP server ({type(exc).__name__})")


def classify_http_status(status: int) -> DeliveryError | None:
    """A webhook's answer: 2xx delivered; 410 the recipient is gone; 408/425/429/5xx retry; other 4xx fail."""
    if 200 <= status < 300:
        return None
    if status == 410:
        return RecipientRejected("webhook 410: recipient gone")
    if status in (408, 425, 429) or status >= 500:
        return TransientFailure(f"webhook {status}: try again later")
    return PermanentFailure(f"webhook {status}: refused")
