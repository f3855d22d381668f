"""`charter outbox …` against a real database and a real SMTP server."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from charter.core.crypto import Keyring
from charter.core.db import transaction
from charter.devmail import DevMail
from charter.outbox import Channel, Outbox, WebhookEndpoints
from tests.cli.run import charter
from tests.factories import make_controller


def test_drain_list_bounce_and_unbounce(cli_keyring: Keyring, sessions: sessionmaker[Session],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    with transaction(sessions) as s:
        cid = make_controller(s, "Acme")
        for to in ("a@example.com", "b@example.com"):
            Outbox(s, cli_keyring).enqueue(cid, channel="email", to=to, template="verification_code",
                                           params={"code": "042917", "expires_minutes": 10}, language="en",
                                           actor="test")
    code, out = charter("outbox", "bounce", "b@example.com", "--controller", cid)
    assert code == 0, out
    with DevMail(web_port=None) as mail:
        monkeypatch.setenv("CHARTER_SMTP_PORT", str(mail.smtp_port))
        code, out = charter("outbox", "drain", "--controller", cid)
        assert code == 0, out
        assert "2 attempted: 1 failed, 1 sent" in out
        assert [m.rcpt_tos for m in mail.wait_for(1)] == [["a@example.com"]]
    monkeypatch.setenv("COLUMNS", "240")  # the table is wide; Rich folds it to the terminal
    code, out = charter("outbox", "list", "--controller", cid)
    assert code == 0, out
    assert "verification_code" in out and "sent" in out and "failed" in out
    assert "example.com" not in out
    code, out = charter("outbox", "list", "--controller", cid, "--status", "failed")
    assert out.count("verification_code") == 1
    assert charter("outbox", "unbounce", "b@example.com", "--controller", cid)[1].strip() == "suppression cleared"
    assert "not suppressed" in charter("outbox", "unbounce", "b@example.com", "--controller", cid)[1]
    code, out = charter("outbox", "bounce", "not-an-address", "--controller", cid)
    assert code == 1
    assert "not valid" in out


def test_webhook_generates_a_secret_once_or_reads_one(cli_keyring: Keyring, sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as s:
        cid = make_controller(s)
    code, out = charter("outbox", "webhook", "--controller", cid, "--channel", "sms",
                        "--url", "https://host.example/sms")
    assert code == 0, out
    secret = out.strip().splitlines()[-1]
    with sessions() as s:
        target = WebhookEndpoints(s, cli_keyring).target(cid, Channel.SMS)
        assert target is not None and (target.url, target.secret) == ("https://host.example/sms", secret)
    code, out = charter("outbox", "webhook", "--controller", cid, "--channel", "push",
                        "--url", "https://host.example/push", "--secret-stdin", stdin="given-secret-0123456789\n")
    assert code == 0, out
    assert "given-secret" not in out
    code, out = charter("outbox", "webhook", "--controller", cid, "--channel", "email", "--url", "https://h.example")
    assert code == 1
    assert "not sent through a webhook" in out
