"""The real transports: email over SMTP (smtplib), SMS and push as signed webhooks to the host (httpx)."""

from __future__ import annotations

import json
import smtplib
import ssl
import time
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr

import httpx

from charter.core.db import utcnow
from charter.core.settings import Settings
from charter.outbox.delivery import TransientFailure, classify_http_status, classify_smtp_error
from charter.outbox.interfaces import Outgoing, Transport
from charter.outbox.models import Channel
from charter.outbox.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign


def build_email(message: Outgoing, mail_from: str) -> EmailMessage:
    """The MIME message: plain text with an HTML alternative, in the person's language."""
    _, address = parseaddr(mail_from)
    email = EmailMessage()
    email.set_content(message.content.text)
    email.add_alternative(message.content.html, subtype="html")
    # After the body: setting content drops Content-* headers set before it.
    email["From"] = formataddr((message.controller_name, address))
    email["To"] = message.to
    email["Subject"] = message.content.subject
    email["Date"] = format_datetime(utcnow())
    # Deterministic, so a bounce report quoting it leads back to the message.
    email["Message-ID"] = f"<{message.id}@{address.rpartition('@')[2] or 'charter.localhost'}>"
    email["Content-Language"] = message.language.value
    email["X-Charter-Template"] = message.template
    if "List-Unsubscribe" not in message.content.headers:
        email["Auto-Submitted"] = "auto-generated"
    for name, value in message.content.headers.items():
        email[name] = value
    return email


class SmtpTransport:
    """Email over SMTP. Keeps one connection open across a pass and reopens it when it drops."""

    def __init__(self, host: str, port: int, *, mail_from: str, username: str | None = None,
                 password: str | None = None, starttls: bool = False, timeout: float = 10.0,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self.host, self.port, self.mail_from = host, port, mail_from
        self.username, self.password, self.starttls = username, password, starttls
        self.timeout = timeout
        self.ssl_context = ssl_context
        self._smtp: smtplib.SMTP | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpTransport:
        return cls(settings.smtp_host, settings.smtp_port, mail_from=settings.mail_from,
                   username=settings.smtp_username, password=settings.smtp_password,
                   starttls=settings.smtp_starttls, timeout=settings.smtp_timeout)

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            try:
                if self.starttls:
                    smtp.starttls(context=self.ssl_context or ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password or "")
            except BaseException:
                smtp.close()
                raise
            self._smtp = smtp
        return self._smtp

    def send(self, message: Outgoing) -> None:
        email = build_email(message, self.mail_from)
        try:
            self._connection().send_message(email, from_addr=parseaddr(self.mail_from)[1], to_addrs=[message.to])
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as exc:
            # smtplib has reset the transaction; the connection is still good for the next message.
            raise classify_smtp_error(exc) from None
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise classify_smtp_error(exc) from None

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


class WebhookTransport:
    """SMS and push: a JSON POST to the controller's own endpoint, signed with its secret.

    Body: `{"id", "controller", "channel", "to", "language", "template", "subject", "text"}`; headers
    `X-Charter-Timestamp` and `X-Charter-Signature: sha256=HMAC(secret, timestamp + "." + body)`.
    """

    def __init__(self, *, timeout: float = 10.0, client: httpx.Client | None = None) -> None:
        self._client = client or httpx.Client(timeout=timeout, follow_redirects=False)

    def send(self, message: Outgoing) -> None:
        if message.webhook is None:
            raise TransientFailure(f"no {message.channel.value} webhook is configured for this controller "
                                   f"(charter outbox webhook --channel {message.channel.value})")
        body = json.dumps({
            "id": message.id, "controller": message.controller_id, "channel": message.channel.value,
            "to": message.to, "language": message.language.value, "template": message.template,
            "subject": message.content.subject, "text": message.content.text,
        }, ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = str(int(time.time()))
        headers = {"Content-Type": "application/json", "X-Charter-Message-Id": message.id,
                   TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(message.webhook.secret, timestamp, body)}
        try:
            response = self._client.post(message.webhook.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise TransientFailure(f"cannot reach the webhook ({type(exc).__name__})") from None
        error = classify_http_status(response.status_code)
        if error is not None:
            raise error

    def close(self) -> None:
        """The HTTP client's pool is kept for the next pass."""


def transports_from_settings(settings: Settings) -> dict[Channel, Transport]:
    """Email over the configured SMTP server; SMS and push through each controller's webhook."""
    webhook = WebhookTransport(timeout=settings.smtp_timeout)
    return {Channel.EMAIL: SmtpTransport.from_settings(settings), Channel.SMS: webhook, Channel.PUSH: webhook}
