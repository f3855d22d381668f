"""The pure delivery rules: backoff, how SMTP and webhook answers are classed, webhook signatures."""

from __future__ import annotations

import datetime as dt
import smtplib

import pytest

from charter.outbox.delivery import (
    PermanentFailure,
    RecipientRejected,
    RetryPolicy,
    TransientFailure,
    classify_http_status,
    classify_smtp_error,
)
from charter.outbox.signing import sign, verify_signature


def test_backoff_doubles_up_to_the_cap() -> None:
    policy = RetryPolicy(base=dt.timedelta(seconds=30), cap=dt.timedelta(minutes=5), max_attempts=5)
    assert [policy.delay(n).total_seconds() for n in range(1, 7)] == [30, 60, 120, 240, 300, 300]
    assert policy.delay(10_000) == dt.timedelta(minutes=5)
    assert not policy.gives_up_after(4)
    assert policy.gives_up_after(5)


@pytest.mark.parametrize(("exc", "kind", "reason"), [
    (smtplib.SMTPRecipientsRefused({"a@b.c": (550, b"5.1.1 <a@b.c> unknown")}), RecipientRejected,
     "SMTP 550: recipient refused"),
    (smtplib.SMTPRecipientsRefused({"a@b.c": (450, b"busy")}), TransientFailure,
     "SMTP 450: recipient temporarily refused"),
    (smtplib.SMTPDataError(554, b"spam"), PermanentFailure, "SMTP 554: message refused"),
    (smtplib.SMTPDataError(451, b"later"), TransientFailure, "SMTP 451: message refused"),
    (smtplib.SMTPSenderRefused(553, b"no", "x@y"), PermanentFailure, "SMTP 553: sender refused"),
    (smtplib.SMTPAuthenticationError(535, b"bad"), PermanentFailure,
     "SMTP 535: authentication failed (check CHARTER_SMTP_USERNAME/_PASSWORD)"),
    (smtplib.SMTPResponseException(421, b"closing"), TransientFailure, "SMTP 421: server error"),
    (smtplib.SMTPServerDisconnected("gone"), TransientFailure,
     "cannot reach the SMTP server (SMTPServerDisconnected)"),
    (ConnectionRefusedError(111, "refused"), TransientFailure, "cannot reach the SMTP server (ConnectionRefusedError)"),
    (TimeoutError(), TransientFailure, "cannot reach the SMTP server (TimeoutError)"),
    (smtplib.SMTPNotSupportedError("STARTTLS extension not supported by server."), PermanentFailure,
     "the SMTP server does not offer STARTTLS or AUTH here (check CHARTER_SMTP_STARTTLS and CHARTER_SMTP_USERNAME)"),
])
def test_smtp_errors_are_classed_without_echoing_the_server(exc: Exception, kind: type, reason: str) -> None:
    error = classify_smtp_error(exc)
    assert type(error) is kind
    assert error.reason == reason
    assert "a@b.c" not in error.reason


@pytest.mark.parametrize(("status", "kind"), [
    (200, None), (204, None), (410, RecipientRejected), (400, PermanentFailure), (401, PermanentFailure),
    (408, TransientFailure), (429, TransientFailure), (500, TransientFailure), (503, TransientFailure),
])
def test_webhook_statuses(status: int, kind: type | None) -> None:
    error = classify_http_status(status)
    assert (type(error) if error else None) is kind


def test_signatures_verify_and_catch_tampering_and_replays() -> None:
    body, secret, ts = b'{"to":"+8613800138000"}', "s" * 32, "1700000000"
    signature = sign(secret, ts, body)
    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    assert verify_signature(secret, ts, body, signature, now=1700000100)
    assert not verify_signature(secret, ts, body + b" ", signature, now=1700000100)
    assert not verify_signature("t" * 32, ts, body, signature, now=1700000100)
    assert not verify_signature(secret, ts, body, signature, now=1700000000 + 301)
    assert not verify_signature(secret, "yesterday", body, signature)
