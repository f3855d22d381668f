"""Delivery end to end: enqueue, commit, drain, and a real SMTP server (or webhook receiver) gets it."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi import FastAPI, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from charter.audit.models import AuditEvent
from charter.audit.services import AuditLog
from charter.core.crypto import Keyring
from charter.core.db import transaction
from charter.devmail import DevMail, free_port
from charter.outbox import Marketing, Outbox, OutboxMessage, RetryPolicy, Status, WebhookEndpoints, verify_signature
from charter.outbox.services import DeliveryQueue
from tests.factories import make_controller
from tests.live import live_server
from tests.outbox.conftest import Clock, make_sender

CODE = {"code": "042917", "expires_minutes": 10}


def _queue(sessions: sessionmaker[Session], keyring: Keyring, cid: str | None = None, *,
           to: str = "wang@example.com", language: str = "zh-CN", **kw: Any) -> tuple[str, str]:
    with transaction(sessions) as s:
        cid = cid or make_controller(s, "超润 Lubpur")
        args: dict[str, Any] = {"channel": "email", "to": to, "template": "verification_code", "params": CODE,
                                "language": language, "actor": "test"} | kw
        message = Outbox(s, keyring).enqueue(cid, **args).message
    return cid, message.id


def _message(sessions: sessionmaker[Session], message_id: str) -> OutboxMessage:
    with sessions() as s:
        row = s.get(OutboxMessage, message_id)
        assert row is not None
        return row


def _actions(sessions: sessionmaker[Session], cid: str, message_id: str) -> list[str]:
    with sessions() as s:
        return list(s.execute(select(AuditEvent.action).where(
            AuditEvent.controller_id == cid, AuditEvent.target == f"outbox:{message_id}")
            .order_by(AuditEvent.seq)).scalars())


@pytest.mark.parametrize("case", [
    ("zh-CN", "超润 Lubpur身份验证码", "您的验证码是：042917"),
    ("zh-TW", "超润 Lubpur身分驗證碼", "您的驗證碼是：042917"),
    ("en", "Your 超润 Lubpur verification code", "Your verification code is: 042917"),
], ids=["zh-CN", "zh-TW", "en"])
def test_a_queued_email_reaches_the_smtp_server_in_the_persons_language(
        sessions: sessionmaker[Session], keyring: Keyring, mail: DevMail, clock: Clock,
        case: tuple[str, str, str]) -> None:
    language, subject, phrase = case
    cid, message_id = _queue(sessions, keyring, language=language)
    report = make_sender(sessions, keyring, mail.smtp_port, clock).send_due(controller_id=cid)
    assert (report.claimed, report.count(Status.SENT)) == (1, 1)
    [received] = mail.wait_for(1)
    assert received.rcpt_tos == ["wang@example.com"]
    assert received.subject == subject
    assert phrase in received.text
    assert received.html is not None and 'id="code">042917<' in received.html
    assert received.header("Content-Language") == language
    assert received.header("Message-ID") == f"<{message_id}@charter.test>"
    assert received.header("From") == "超润 Lubpur <no-reply@charter.test>"
    assert received.header("Auto-Submitted") == "auto-generated"
    assert received.header("List-Unsubscribe") is None
    row = _message(sessions, message_id)
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, None)
    assert row.sent_at is not None
    assert _actions(sessions, cid, message_id) == ["outbox.queued", "outbox.sending", "outbox.sent"]
    with sessions() as s:
        data = s.execute(select(AuditEvent.data).where(AuditEvent.controller_id == cid)).scalars().all()
        assert all("wang@" not in str(d) and "042917" not in str(d) for d in data)
        assert AuditLog(s).verify(cid).ok


def test_nothing_leaves_before_the_callers_transaction_commits(
        sessions: sessionmaker[Session], keyring: Keyring, mail: DevMail, clock: Clock) -> None:
    sender = make_sender(sessions, keyring, mail.smtp_port, clock)
    with transaction(sessions) as s:
        cid = make_controller(s)
    with sessions() as s:
        s.begin()
        Outbox(s, keyring).enqueue(cid, channel="email", to="a@example.com", template="verification_code",
                                   params=CODE, language="en", actor="test")
        s.flush()
        assert sender.drain(controller_id=cid).claimed == 0
        s.commit()
    assert sender.drain(controller_id=cid).claimed == 1
    assert len(mail.wait_for(1)) == 1


def test_a_rolled_back_enqueue_sends_nothing(sessions: sessionmaker[Session], keyring: Keyring, mail: DevMail,
                                             clock: Clock) -> None:
    with transaction(sessions) as s:
        cid = make_controller(s)
    with sessions() as s, s.begin():
        Outbox(s, keyring).enqueue(cid, channel="email", to="a@example.com", template="verification_code",
                                   params=CODE, language="en", actor="test")
        s.rollback()
    assert make_sender(sessions, keyring, mail.smtp_port, clock).send_due(controller_id=cid).claimed == 0
    assert mail.messages == []


def test_server_down_retries_with_backoff_then_delivers_when_it_comes_up(
        sessions: sessionmaker[Session], keyring: Keyring, clock: Clock) -> None:
    port = free_port()  # nothing listens here yet
    cid, message_id = _queue(sessions, keyring, language="en")
    sender = make_sender(sessions, keyring, port, clock)
    start = clock.now
    assert sender.send_due(controller_id=cid).count(Status.QUEUED) == 1
    row = _message(sessions, message_id)
    assert (row.status, row.attempts) == ("queued", 1)
    assert row.last_error == "cannot reach the SMTP server (ConnectionRefusedError)"
    assert _utc(row.next_attempt_at) == start + dt.timedelta(seconds=30)
    assert sender.send_due(controller_id=cid).claimed == 0  # not due yet
    clock.advance(30)
    sender.send_due(controller_id=cid)
    row = _message(sessions, message_id)
    assert row.attempts == 2
    assert _utc(row.next_attempt_at) == clock.now + dt.timedelta(seconds=60)  # doubled
    with DevMail(smtp_port=port, web_port=None) as mail:
        clock.advance(60)
        assert sender.send_due(controller_id=cid).count(Status.SENT) == 1
        [received] = mail.wait_for(1)
        assert received.subject == "Your 超润 Lubpur verification code"
    row = _message(sessions, message_id)
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, None)
    assert _actions(sessions, cid, message_id) == [
        "outbox.queued", "outbox.sending", "outbox.retry_scheduled", "outbox.sending", "outbox.retry_scheduled",
        "outbox.sending", "outbox.sent"]


def test_gives_up_after_the_last_attempt(sessions: sessionmaker[Session], keyring: Keyring, clock: Clock) -> None:
    cid, message_id = _queue(sessions, keyring)
    sender = make_sender(sessions, keyring, free_port(), clock,
                         retry=RetryPolicy(base=dt.timedelta(seconds=10), max_attempts=2))
    sender.send_due(controller_id=cid)
    clock.advance(10)
    assert sender.send_due(controller_id=cid).count(Status.FAILED) == 1
    row = _message(sessions, message_id)
    assert (row.status, row.attempts) == ("failed", 2)
    assert row.last_error == "cannot reach the SMTP server (ConnectionRefusedError); gave up after 2 attempt(s)"
    clock.advance(3600)
    assert sender.send_due(controller_id=cid).claimed == 0


def test_a_temporary_refusal_is_retried(sessions: sessionmaker[Session], keyring: Keyring, mail: DevMail,
                                        clock: Clock) -> None:
    mail.refuse("busy@example.com", 451)
    cid, message_id = _queue(sessions, keyring, to="busy@example.com")
    sender = make_sender(sessions, keyring, mail.smtp_port, clock)
    sender.send_due(controller_id=cid)
    assert _message(sessions, message_id).last_error == "SMTP 451: recipient temporarily refused"
    mail.accept("busy@example.com")
    clock.advance(30)
    assert sender.send_due(controller_id=cid).count(Status.SENT) == 1
    assert len(mail.wait_for(1)) == 1


def test_a_5xx_bounce_suppresses_the_address_until_cleared(
        sessions: sessionmaker[Session], keyring: Keyring, mail: DevMail, clock: Clock) -> None:
    mail.refuse("gone@example.com", 550)
    cid, first = _queue(sessions, keyring, to="gone@example.com")
    sender = make_sender(sessions, keyring, mail.smtp_port, clock)
    assert sender.send_due(controller_id=cid).count(Status.BOUNCED) == 1
    row = _message(sessions, first)
    assert (row.status, row.last_error) == ("bounced", "SMTP 550: recipient refused")
    mail.accept("gone@example.com")  # the server would take it now, but the address stays suppressed
    _, second = _queue(sessions, keyring, cid, to="Gone@example.com")
    assert sender.send_due(controller_id=cid).count(Status.FAILED) == 1
    row = _message(sessions, second)
    assert (row.status, row.attempts) == ("failed", 0)
    assert row.last_error == "not sent: the address bounced before and is suppressed"
    assert mail.messages == []
    with transaction(sessions) as s:
        assert Outbox(s, keyring).clear_bounce(cid, "gone@example.com", actor="test")
    _, third = _queue(sessions, keyring, cid, to="gone@example.com")
    assert sender.send_due(controller_id=cid).count(Status.SENT) == 1
    assert len(mail.wait_for(1)) == 1
    assert _message(sessions, third).status == "sent"
    with sessions() as s:
        assert AuditLog(s).verify(cid).ok


def test_other_5xx_answers_fail_the_message(sessions: sessionmaker[Session], keyring: Keyring,
                                            clock: Clock) -> None:
    with DevMail(web_port=None, login=("charter", "right-password")) as mail:
        cid, bad = _queue(sessions, keyring)
        wrong = make_sender(sessions, keyring, mail.smtp_port, clock, username="charter", password="wrong")
        assert wrong.send_due(controller_id=cid).count(Status.FAILED) == 1
        assert _message(sessions, bad).last_error == (
            "SMTP 535: authentication failed (check CHARTER_SMTP_USERNAME/_PASSWORD)")
        _, good = _queue(sessions, keyring, cid)
        right = make_sender(sessions, keyring, mail.smtp_port, clock, username="charter", password="right-password")
        assert right.send_due(controller_id=cid).count(Status.SENT) == 1
        assert len(mail.wait_for(1)) == 1
        assert _message(sessions, good).status == "sent"


def test_marking_a_sent_message_bounced_stops_further_mail(
        sessions: sessionmaker[Session], keyring: Keyring, mail: DevMail, clock: Clock) -> None:
    cid, first = _queue(sessions, keyring, to="later-bounce@example.com")
    sender = make_sender(sessions, keyring, mail.smtp_port, clock)
    sender.send_due(controller_id=cid)
    with transaction(sessions) as s:
        Outbox(s, keyring).mark_bounced(cid, message_id=first, reason="DSN 5.1.1", actor="test")
    assert _message(sessions, first).status == "bounced"
    _, second = _queue(sessions, keyring, cid, to="later-bounce@example.com")
    sender.send_due(controller_id=cid)
    assert _message(sessions, second).status == "failed"
    assert len(mail.messages) == 1


def test_a_crash_between_sending_and_settling_is_retried_after_the_lease(
        sessions: sessionmaker[Session], keyring: Keyring, mail: DevMail, clock: Clock) -> None:
    cid, message_id = _queue(sessions, keyring)
    sender = make_sender(sessions, keyring, mail.smtp_port, clock)
    with transaction(sessions) as s:  # claimed, then the process died before sending
        DeliveryQueue(s, keyring).claim(clock.now, 10, lease=sender.lease, retry=sender.retry, controller_id=cid)
    assert _message(sessions, message_id).status == "sending"
    assert sender.send_due(controller_id=cid).claimed == 0
    clock.advance(sender.lease.total_seconds())
    assert sender.send_due(controller_id=cid).count(Status.SENT) == 1
    assert _message(sessions, message_id).attempts == 2
    assert len(mail.wait_for(1)) == 1


def test_marketing_mail_has_one_click_unsubscribe_headers_and_tracking_only_when_allowed(
        sessions: sessionmaker[Session], keyring: Keyring, mail: DevMail, clock: Clock) -> None:
    params = {"title": "新品上市", "paragraphs": ["全合成机油"]}
    base = Marketing("超润 Lubpur", "400-820-0000", "https://lubpur.example/u/tok1")
    cid, tracked = _queue(sessions, keyring, template="newsletter", params=params, to="a@example.com",
                          marketing=Marketing(**{**base.__dict__, "allow_tracking": True,
                                                 "tracking_pixel_url": "https://lubpur.example/o/1.gif"}))
    _queue(sessions, keyring, cid, template="newsletter", params=params, to="b@example.com",
           marketing=Marketing(**{**base.__dict__, "tracking_pixel_url": "https://lubpur.example/o/2.gif"}))
    make_sender(sessions, keyring, mail.smtp_port, clock).send_due(controller_id=cid)
    received = {m.rcpt_tos[0]: m for m in mail.wait_for(2)}
    for m in received.values():
        assert m.subject == "广告：新品上市"
        assert m.header("List-Unsubscribe") == "<https://lubpur.example/u/tok1>"
        assert m.header("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
        assert m.header("Auto-Submitted") is None
        assert "400-820-0000" in m.text and "https://lubpur.example/u/tok1" in m.text
    assert "https://lubpur.example/o/1.gif" in (received["a@example.com"].html or "")
    assert "gif" not in (received["b@example.com"].html or "")
    assert _message(sessions, tracked).is_marketing


@dataclass
class Receiver:
    """The host's SMS/push endpoint: records each request; answers with `status`."""

    secret: str
    status: int = 200
    calls: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/hooks/{channel}")
        async def hook(channel: str, request: Request) -> Response:
            body = await request.body()
            self.calls.append({"channel": channel, "body": json.loads(body), "valid": verify_signature(
                self.secret, request.headers["X-Charter-Timestamp"], body, request.headers["X-Charter-Signature"])})
            return Response(status_code=self.status)

        return app


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    r = Receiver(secret="host-shared-secret-0123456789")
    with live_server(r.app()) as base:
        yield r, base


def test_sms_and_push_go_to_the_hosts_signed_webhook(
        sessions: sessionmaker[Session], keyring: Keyring, clock: Clock, receiver: tuple[Receiver, str]) -> None:
    r, base = receiver
    with transaction(sessions) as s:
        cid = make_controller(s, "Landups")
        hooks = WebhookEndpoints(s, keyring)
        hooks.set(cid, "sms", f"{base}/hooks/sms", r.secret, actor="test")
        hooks.set(cid, "push", f"{base}/hooks/push", r.secret, actor="test")
    _, sms = _queue(sessions, keyring, cid, channel="sms", to="138 0013 8000", language="zh-CN")
    _, push = _queue(sessions, keyring, cid, channel="push", to="device-token-1", language="en")
    report = make_sender(sessions, keyring, free_port(), clock).send_due(controller_id=cid)
    assert report.count(Status.SENT) == 2
    calls = {c["channel"]: c for c in r.calls}
    assert all(c["valid"] for c in r.calls)
    assert calls["sms"]["body"]["to"] == "+8613800138000"
    assert calls["sms"]["body"]["id"] == sms and calls["sms"]["body"]["language"] == "zh-CN"
    assert "042917" in calls["sms"]["body"]["text"]
    assert calls["push"]["body"] | {"text": ""} == {
        "id": push, "controller": cid, "channel": "push", "to": "device-token-1", "language": "en",
        "template": "verification_code", "subject": "Your Landups verification code", "text": ""}


def test_webhook_answers_decide_retry_failure_or_bounce(
        sessions: sessionmaker[Session], keyring: Keyring, clock: Clock, receiver: tuple[Receiver, str]) -> None:
    r, base = receiver
    with transaction(sessions) as s:
        cid = make_controller(s)
        WebhookEndpoints(s, keyring).set(cid, "sms", f"{base}/hooks/sms", r.secret, actor="test")
    sender = make_sender(sessions, keyring, free_port(), clock)
    outcomes = {}
    for status in (503, 400, 410):
        r.status = status
        _, message_id = _queue(sessions, keyring, cid, channel="sms", to="13800138000")
        sender.send_due(controller_id=cid)
        row = _message(sessions, message_id)
        outcomes[status] = (row.status, row.last_error)
    assert outcomes == {503: ("queued", "webhook 503: try again later"), 400: ("failed", "webhook 400: refused"),
                        410: ("bounced", "webhook 410: recipient gone")}


def test_sms_without_a_webhook_waits_for_one(sessions: sessionmaker[Session], keyring: Keyring,
                                             clock: Clock) -> None:
    cid, message_id = _queue(sessions, keyring, channel="sms", to="+852 5123 4567")
    make_sender(sessions, keyring, free_port(), clock).send_due(controller_id=cid)
    row = _message(sessions, message_id)
    assert (row.status, row.last_error) == (
        "queued", "no sms webhook is configured for this controller (charter outbox webhook --channel sms)")


def test_draining_one_controller_leaves_the_others(sessions: sessionmaker[Session], keyring: Keyring,
                                                  mail: DevMail, clock: Clock) -> None:
    a, _ = _queue(sessions, keyring)
    b, other = _queue(sessions, keyring)
    make_sender(sessions, keyring, mail.smtp_port, clock).send_due(controller_id=a)
    assert len(mail.wait_for(1)) == 1
    assert _message(sessions, other).status == "queued"
    assert b != a


def _utc(value: dt.datetime) -> dt.datetime:
    # SQLite hands datetimes back naive; they were written in UTC.
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _self_signed(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a fresh certificate for 127.0.0.1, and a client context that trusts only it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    return server, ssl.create_default_context(cafile=str(cert_file))


def test_starttls_and_login(sessions: sessionmaker[Session], keyring: Keyring, clock: Clock,
                            tmp_path: Path) -> None:
    server_tls, client_tls = _self_signed(tmp_path)
    with DevMail(web_port=None, login=("charter", "over-tls"), tls_context=server_tls) as mail:
        cid, plain = _queue(sessions, keyring)
        no_tls = make_sender(sessions, keyring, mail.smtp_port, clock, username="charter", password="over-tls")
        no_tls.send_due(controller_id=cid)
        assert _message(sessions, plain).last_error == (  # AUTH is offered only after STARTTLS
            "the SMTP server does not offer STARTTLS or AUTH here (check CHARTER_SMTP_STARTTLS and "
            "CHARTER_SMTP_USERNAME)")
        _, secure = _queue(sessions, keyring, cid)
        tls = make_sender(sessions, keyring, mail.smtp_port, clock, username="charter", password="over-tls",
                          starttls=True, ssl_context=client_tls)
        assert tls.send_due(controller_id=cid).count(Status.SENT) == 1
        assert len(mail.wait_for(1)) == 1
        assert _message(sessions, secure).status == "sent"


def test_a_message_this_keyring_cannot_open_does_not_hold_up_the_others(
        sessions: sessionmaker[Session], keyring: Keyring, mail: DevMail, clock: Clock) -> None:
    # One row written under a key this sender does not hold (a lost key, a keyring not yet loaded).
    cid, unreadable = _queue(sessions, Keyring.generate(), to="li@example.com")
    _, readable = _queue(sessions, keyring, cid, to="wang@example.com")
    sender = make_sender(sessions, keyring, mail.smtp_port, clock,
                         retry=RetryPolicy(base=dt.timedelta(seconds=10), max_attempts=2))
    report = sender.send_due(controller_id=cid)
    assert (report.count(Status.SENT), report.count(Status.QUEUED)) == (1, 1)
    [received] = mail.wait_for(1)
    assert received.rcpt_tos == ["wang@example.com"]
    assert _message(sessions, readable).status == "sent"
    row = _message(sessions, unreadable)
    assert (row.status, row.attempts) == ("queued", 1)
    assert row.last_error is not None and row.last_error.startswith("cannot be decrypted: ")
    clock.advance(10)
    assert sender.send_due(controller_id=cid).count(Status.FAILED) == 1  # the retry policy gives up, said why
    assert _message(sessions, unreadable).status == "failed"
    assert _actions(sessions, cid, unreadable)[-2:] == ["outbox.sending", "outbox.failed"]
