"""Mail Landups sends itself: survey invitations (purpose surveys, which names account.name and account.email).

`SmtpMailer` hands letters to the SMTP server at `LANDUPS_SMTP_HOST`/`LANDUPS_SMTP_PORT` (in `charter demo`, the
local mail catcher); without `LANDUPS_SMTP_HOST` it is `NoMailer` and invitations are shown in the console only.
Letters are built inside the request that decided them (after Charter said yes for each person) and sent after
its commit, so a rolled-back run mails no one. Nothing personal is logged: a failure is logged as a count.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Protocol

from landups.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Letter:
    to: str
    subject: str
    body: str
    language: str   # Content-Language: the person's own language


class Mailer(Protocol):
    @property
    def is_configured(self) -> bool: ...

    def send(self, letters: Sequence[Letter]) -> int: ...


class NoMailer:
    """No SMTP server configured: nothing is mailed (invitations still show in the person's console)."""

    is_configured = False

    def send(self, letters: Sequence[Letter]) -> int:
        return 0


class SmtpMailer:
    """One SMTP connection per batch; plain SMTP to a relay on the same machine or network (no auth, no TLS)."""

    is_configured = True

    def __init__(self, host: str, port: int, sender: str, timeout: float = 10.0) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.timeout = timeout

    def send(self, letters: Sequence[Letter]) -> int:
        """Send each letter; returns how many the server took. A failure ends the batch and is logged as counts."""
        if not letters:
            return 0
        sent = 0
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                for letter in letters:
                    smtp.send_message(self._message(letter))
                    sent += 1
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("mail: %d of %d letter(s) not sent (%s)", len(letters) - sent, len(letters),
                        type(exc).__name__)
        return sent

    def _message(self, letter: Letter) -> EmailMessage:
        message = EmailMessage()
        message["From"] = formataddr(("Landups", self.sender))
        message["To"] = letter.to
        message["Subject"] = letter.subject
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        message.set_content(letter.body)   # before Content-Language: set_content replaces every Content-* header
        message["Content-Language"] = letter.language
        return message


def mailer_from_settings(settings: Settings) -> Mailer:
    if not settings.smtp_host:
        return NoMailer()
    return SmtpMailer(settings.smtp_host, settings.smtp_port, settings.mail_from)
