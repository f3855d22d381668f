"""The aiosmtpd handler: store every message; refuse the addresses a test (or a developer) said to refuse."""

from __future__ import annotations

from typing import Any

from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from charter.devmail.store import MailStore


class StoringHandler:
    def __init__(self, store: MailStore) -> None:
        self.store = store
        self.refusals: dict[str, int] = {}
        """Lower-cased address → SMTP code (4xx: try later, 5xx: no such mailbox)."""

    async def handle_RCPT(self, _server: Any, _session: Session, envelope: Envelope, address: str,  # noqa: N802
                          _options: list[str]) -> str:
        code = self.refusals.get(address.lower())
        if code is not None:
            return f"{code} 4.2.1 Mailbox busy, try later" if code < 500 else f"{code} 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, _server: Any, _session: Session, envelope: Envelope) -> str:  # noqa: N802
        raw = envelope.original_content or envelope.content or b""
        self.store.add(envelope.mail_from or "", list(envelope.rcpt_tos),
                       raw if isinstance(raw, bytes) else raw.encode())
        return "250 Message accepted for delivery"


class PasswordCheck:
    """An aiosmtpd authenticator accepting exactly one username and password."""

    def __init__(self, username: str, password: str) -> None:
        self.username, self.password = username.encode(), password.encode()

    def __call__(self, _server: Any, _session: Session, _envelope: Envelope, mechanism: str,
                 auth_data: Any) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            self.username, self.password)
        return AuthResult(success=ok, handled=False)
