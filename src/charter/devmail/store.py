"""Received mail, kept in memory or in a local SQLite file (`charter devmail --store inbox.db`)."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from functools import cached_property
from pathlib import Path
from typing import cast

_SCHEMA = """CREATE TABLE IF NOT EXISTS mails (
    id INTEGER PRIMARY KEY AUTOINCREMENT, received_at TEXT NOT NULL, mail_from TEXT NOT NULL,
    rcpt_tos TEXT NOT NULL, raw BLOB NOT NULL)"""


@dataclass(frozen=True)
class ReceivedMail:
    """One message as the SMTP server received it: the envelope and the raw bytes, parsed on demand."""

    id: int
    received_at: dt.datetime
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes = field(repr=False)

    @cached_property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.raw, policy=policy.default)

    def header(self, name: str) -> str | None:
        value = self.message[name]
        return None if value is None else str(value)

    @property
    def subject(self) -> str:
        return self.header("Subject") or ""

    @property
    def sender(self) -> str:
        return self.header("From") or self.mail_from

    @property
    def to(self) -> str:
        return self.header("To") or ", ".join(self.rcpt_tos)

    def _part(self, subtype: str) -> str | None:
        body = self.message.get_body(preferencelist=(subtype,))
        return None if body is None else str(cast(EmailMessage, body).get_content())

    @property
    def text(self) -> str:
        return self._part("plain") or ""

    @property
    def html(self) -> str | None:
        return self._part("html")

    @property
    def headers(self) -> list[tuple[str, str]]:
        return [(k, str(v)) for k, v in self.message.items()]


class MailStore:
    """Thread-safe: the SMTP server's thread adds, tests and the web inbox read."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._db = sqlite3.connect(str(path) if path else ":memory:", check_same_thread=False)
        self._db.execute(_SCHEMA)
        self._db.commit()
        self._changed = threading.Condition()

    def add(self, mail_from: str, rcpt_tos: list[str], raw: bytes) -> ReceivedMail:
        at = dt.datetime.now(dt.UTC)
        with self._changed:
            cur = self._db.execute("INSERT INTO mails (received_at, mail_from, rcpt_tos, raw) VALUES (?, ?, ?, ?)",
                                   (at.isoformat(), mail_from, json.dumps(rcpt_tos), raw))
            self._db.commit()
            self._changed.notify_all()
        return ReceivedMail(int(cur.lastrowid or 0), at, mail_from, rcpt_tos, raw)

    def all(self) -> list[ReceivedMail]:
        """Oldest first."""
        with self._changed:
            rows = self._db.execute("SELECT id, received_at, mail_from, rcpt_tos, raw FROM mails ORDER BY id")
            return [_mail(row) for row in rows.fetchall()]

    def get(self, mail_id: int) -> ReceivedMail | None:
        with self._changed:
            row = self._db.execute("SELECT id, received_at, mail_from, rcpt_tos, raw FROM mails WHERE id = ?",
                                   (mail_id,)).fetchone()
        return None if row is None else _mail(row)

    def clear(self) -> None:
        with self._changed:
            self._db.execute("DELETE FROM mails")
            self._db.commit()

    def wait_for(self, count: int = 1, timeout: float = 5.0) -> list[ReceivedMail]:
        """Block until at least `count` messages are stored; raise `TimeoutError` if they do not come."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while (n := self._db.execute("SELECT count(*) FROM mails").fetchone()[0]) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{n} of {count} expected message(s) arrived within {timeout}s")
                self._changed.wait(left)
        return self.all()

    def close(self) -> None:
        self._db.close()


def _mail(row: tuple[int, str, str, str, bytes]) -> ReceivedMail:
    return ReceivedMail(row[0], dt.datetime.fromisoformat(row[1]), row[2], json.loads(row[3]), bytes(row[4]))
