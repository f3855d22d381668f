"""Enqueueing, idempotency, encryption at rest, tenancy, bounces and in-app notices, on a real database."""

from __future__ import annotations

import pytest
import yaml
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from charter.audit.models import AuditEvent
from charter.audit.services import AuditLog
from charter.core.crypto import Keyring
from charter.core.db import make_engine, session_factory
from charter.core.errors import CharterError, Conflict, NotFound
from charter.core.models import Controller
from charter.migrations import upgrade
from charter.outbox import Channel, Outbox, OutboxMessage, Status, WebhookEndpoints
from charter.outbox.models import WebhookEndpoint
from charter.outbox.services import reencrypt_outbox
from charter.policy.services import PolicyStore
from charter.subjects.services import SubjectDirectory
from tests.factories import make_controller, policy_text, publish_policy
from tests.statements import statements_run

CODE = {"code": "042917", "expires_minutes": 10}


def _enqueue(outbox: Outbox, cid: str, to: str = "wang.fang@example.com", **kw: object) -> OutboxMessage:
    args: dict[str, object] = {"channel": "email", "to": to, "template": "verification_code", "params": CODE,
                               "language": "zh-CN", "actor": "test"} | kw
    return outbox.enqueue(cid, **args).message  # type: ignore[arg-type]


def test_enqueue_stores_an_encrypted_queued_message_and_audits_without_personal_data(
        sessions: sessionmaker[Session], keyring: Keyring) -> None:
    with sessions() as s, s.begin():
        cid = make_controller(s, "超润")
        message = _enqueue(Outbox(s, keyring), cid, to=" Wang.Fang@Example.com ")
    with sessions() as s:
        row = s.get(OutboxMessage, message.id)
        assert row is not None
        assert (row.status, row.attempts, row.channel, row.language, row.template) == (
            "queued", 0, "email", "zh-CN", "verification_code")
        raw = s.execute(select(OutboxMessage.recipient_encrypted, OutboxMessage.content_encrypted)
                        .where(OutboxMessage.id == message.id)).one()
        for column in raw:
            assert "example.com" not in column.lower() and "042917" not in column and "验证码" not in column
        outbox = Outbox(s, keyring)
        assert outbox.recipient(row) == "wang.fang@example.com"
        assert "042917" in outbox.content(row).text
        assert outbox.content(row).subject == "超润身份验证码"
        audit = s.execute(select(AuditEvent).where(AuditEvent.controller_id == cid)
                          .order_by(AuditEvent.seq)).scalars().all()
        assert audit[-1].action == "outbox.queued"
        assert audit[-1].data == {"channel": "email", "template": "verification_code", "language": "zh-CN",
                                  "subject_id": None}
        assert all("example.com" not in str(a.data) and "042917" not in str(a.data) for a in audit)
        assert AuditLog(s).verify(cid).ok


def test_the_same_idempotency_key_is_one_message(sessions: sessionmaker[Session], keyring: Keyring) -> None:
    with sessions() as s, s.begin():
        cid = make_controller(s)
        outbox = Outbox(s, keyring)
        first = outbox.enqueue(cid, channel="email", to="a@example.com", template="verification_code",
                               params=CODE, language="en", idempotency_key="verify:req-1", actor="test")
        again = outbox.enqueue(cid, channel="email", to="A@example.com", template="verification_code",
                               params=CODE, language="en", idempotency_key="verify:req-1", actor="test")
        assert (first.created, again.created, again.message.id) == (True, False, first.message.id)
        with pytest.raises(Conflict, match="different message") as err:
            outbox.enqueue(cid, channel="email", to="a@example.com", template="verification_code",
                           params={**CODE, "code": "111111"}, language="en", idempotency_key="verify:req-1",
                           actor="test")
        assert err.value.field == "idempotency_key"
        count = s.execute(select(func.count()).select_from(OutboxMessage)
                          .where(OutboxMessage.controller_id == cid)).scalar_one()
        assert count == 1
        queued = s.execute(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.controller_id == cid, AuditEvent.action == "outbox.queued")).scalar_one()
        assert queued == 1


def test_a_key_used_before_is_answered_before_the_message_is_rendered(
        sessions: sessionmaker[Session], keyring: Keyring) -> None:
    with sessions() as s, s.begin():
        cid = make_controller(s)
        outbox = Outbox(s, keyring)
        first = _enqueue(outbox, cid, idempotency_key="verify:req-2")
        with pytest.raises(Conflict, match="different message"):  # not "needs expires_minutes"
            _enqueue(outbox, cid, params={"code": "1"}, idempotency_key="verify:req-2")
        with pytest.raises(CharterError, match="no message template"):  # an unknown template still comes first
            _enqueue(outbox, cid, template="nope", idempotency_key="verify:req-2")
        with pytest.raises(CharterError, match="needs expires_minutes"):  # a key not used yet: the template's word
            _enqueue(outbox, cid, params={"code": "1"}, idempotency_key="verify:req-3")
        assert _enqueue(outbox, cid, idempotency_key="verify:req-2").id == first.id


def test_a_new_message_under_a_key_takes_the_controller_lock_once_and_reads_no_message_back(
        sessions: sessionmaker[Session], keyring: Keyring) -> None:
    with sessions() as s, s.begin():
        cid = make_controller(s)
    with statements_run(sessions.kw["bind"]) as statements, sessions() as s, s.begin():
        queued = Outbox(s, keyring).enqueue(cid, channel="email", to="a@example.com", template="verification_code",
                                            params=CODE, language="en", idempotency_key="verify:req-4", actor="test")
    assert queued.created
    locks = [st for st in statements if "FOR NO KEY UPDATE" in st or "audit_head_seq=controllers.audit_head_seq" in st]
    assert len(locks) == 1  # the name is read under the lock the audit event then finds held
    assert not [st for st in statements if st.lstrip().startswith("SELECT") and "outbox_messages" in st]


@pytest.mark.parametrize(("kw", "field", "match"), [
    ({"template": "nope"}, "template", "no message template"),
    ({"channel": "fax"}, "channel", "unknown channel"),
    ({"to": "not an address"}, "email", "not valid"),
    ({"to": None}, "to", "needs a recipient"),
    ({"language": "fr"}, "language", "unsupported language"),
    ({"params": {"code": "1"}}, "params", "needs expires_minutes"),
    ({"channel": "in_app", "to": None}, "subject_id", "needs the subject"),
])
def test_bad_input_is_refused_and_stores_nothing(sessions: sessionmaker[Session], keyring: Keyring,
                                                 kw: dict[str, object], field: str, match: str) -> None:
    with sessions() as s, s.begin():
        cid = make_controller(s)
        with pytest.raises(CharterError, match=match) as err:
            _enqueue(Outbox(s, keyring), cid, **kw)
        assert err.value.field == field
        assert s.execute(select(func.count()).select_from(OutboxMessage)
                         .where(OutboxMessage.controller_id == cid)).scalar_one() == 0


def test_tenants_never_see_each_others_messages(sessions: sessionmaker[Session], keyring: Keyring) -> None:
    with sessions() as s, s.begin():
        a, b = make_controller(s), make_controller(s)
        outbox = Outbox(s, keyring)
        message = _enqueue(outbox, a, to="same@example.com")
        _enqueue(outbox, b, to="same@example.com")
        with pytest.raises(NotFound):
            outbox.get(b, message.id)
        with pytest.raises(NotFound):
            outbox.mark_bounced(b, message_id=message.id, actor="test")
        assert [m.id for m in outbox.messages(a)] == [message.id]
        assert message.id not in [m.id for m in outbox.messages(b)]
        outbox.mark_bounced(a, address="same@example.com", actor="test")
        assert outbox.is_suppressed(a, "same@example.com")
        assert not outbox.is_suppressed(b, "same@example.com")
        rows = s.execute(select(OutboxMessage.recipient_index).where(
            OutboxMessage.controller_id.in_((a, b)))).scalars().all()
        assert len(set(rows)) == 2  # the blind index is scoped by controller


def test_in_app_notices_are_listed_per_subject_and_marked_read(
        sessions: sessionmaker[Session], keyring: Keyring) -> None:
    with sessions() as s, s.begin():
        cid, other = make_controller(s), make_controller(s)
        directory = SubjectDirectory(s, keyring)
        wang = directory.resolve(cid, "email", "wang@example.com", actor="test").id
        li = directory.resolve(cid, "email", "li@example.com", actor="test").id
        stranger = directory.resolve(other, "email", "x@example.com", actor="test").id
        outbox = Outbox(s, keyring)
        notice = outbox.enqueue(cid, channel="in_app", subject_id=wang, template="request_received",
                                params={"reference": "R-7", "request_type": "access"}, language="en",
                                actor="test").message
        assert notice.status == Status.SENT.value and notice.sent_at is not None
        with pytest.raises(NotFound):
            outbox.enqueue(cid, channel="in_app", subject_id=stranger, template="request_received",
                           params={"reference": "R-8", "request_type": "access"}, language="en", actor="test")
    with sessions() as s, s.begin():
        outbox = Outbox(s, keyring)
        [shown] = outbox.notices_for(cid, wang)
        assert (shown.id, shown.subject) == (notice.id, "We received your access request (ref. R-7)")
        assert shown.read_at is None and "reference R-7" in shown.text
        assert outbox.notices_for(cid, li) == []
        assert outbox.notices_for(other, wang) == []
        with pytest.raises(NotFound):
            outbox.mark_read(cid, li, notice.id, actor="test")
        outbox.mark_read(cid, wang, notice.id, actor="test")
        assert outbox.notices_for(cid, wang, unread_only=True) == []
        assert outbox.notices_for(cid, wang)[0].read_at is not None
        actions = s.execute(select(AuditEvent.action).where(AuditEvent.controller_id == cid)
                            .order_by(AuditEvent.seq)).scalars().all()
        assert actions[-3:] == ["outbox.queued", "outbox.sent", "outbox.notice_read"]


def test_webhook_secrets_are_encrypted_and_urls_checked(sessions: sessionmaker[Session], keyring: Keyring) -> None:
    with sessions() as s, s.begin():
        cid = make_controller(s)
        hooks = WebhookEndpoints(s, keyring)
        hooks.set(cid, "sms", "https://host.example/sms", "a-very-long-shared-secret", actor="test")
        hooks.set(cid, "sms", "https://host.example/sms2", "another-long-shared-secret", actor="test")
        stored = s.execute(select(WebhookEndpoint.secret_encrypted)
                           .where(WebhookEndpoint.controller_id == cid)).scalar_one()
        assert "secret" not in stored
        target = hooks.target(cid, Channel.SMS)
        assert target is not None and (target.url, target.secret) == (
            "https://host.example/sms2", "another-long-shared-secret")
        assert hooks.target(cid, Channel.PUSH) is None
        for channel, url, secret, match in [("email", "https://h.example", "x" * 20, "not sent through"),
                                            ("push", "ftp://h.example", "x" * 20, "http"),
                                            ("push", "https://h.example", "short", "shorter than 16")]:
            with pytest.raises(CharterError, match=match):
                hooks.set(cid, channel, url, secret, actor="test")
        assert hooks.remove(cid, "sms", actor="test")
        assert not hooks.remove(cid, "sms", actor="test")


def test_key_rotation_reencrypts_messages_and_webhook_secrets(fresh_database_url: str) -> None:
    upgrade(fresh_database_url)
    engine = make_engine(fresh_database_url)
    sessions = session_factory(engine)
    old = Keyring.generate()
    with sessions() as s, s.begin():
        cid = make_controller(s)
        message = _enqueue(Outbox(s, old), cid)
        WebhookEndpoints(s, old).set(cid, "push", "https://h.example/push", "p" * 20, actor="test")
    new = old.rotated()
    with sessions() as s, s.begin():
        assert reencrypt_outbox(s, old, new) == 3
        assert reencrypt_outbox(s, old, new) == 0
    with sessions() as s:
        row = s.get(OutboxMessage, message.id)
        assert row is not None
        assert row.recipient_encrypted.startswith("k2:") and row.content_encrypted.startswith("k2:")
        outbox = Outbox(s, Keyring(active="k2", keys={"k2": new.keys["k2"]}, index_key=new.index_key))
        assert outbox.recipient(row) == "wang.fang@example.com"
        target = WebhookEndpoints(s, new).target(cid, Channel.PUSH)
        assert target is not None and target.secret == "p" * 20
    engine.dispose()


def test_every_message_says_whom_to_contact_from_the_policy_in_force(sessions: sessionmaker[Session],
                                                                     keyring: Keyring) -> None:
    """LUB-CONTACT: a request's news carries the policy's contact in its footer, in the message's language."""
    with sessions() as s, s.begin():
        cid = make_controller(s)
    publish_policy(sessions, cid)
    with sessions() as s, s.begin():
        outbox = Outbox(s, keyring)
        params = {"reference": "R-1", "request_type": "access"}
        zh = outbox.enqueue(cid, channel="email", to="wang@example.com", template="request_received",
                            params=params, language="zh-CN", actor="test").message
        en = outbox.enqueue(cid, channel="email", to="wang@example.com", template="request_received",
                            params=params, language="en", actor="test").message
        assert "联系方式：投诉邮箱：privacy@acme.example" in outbox.content(zh).text
        assert "Contact: Complaints: privacy@acme.example" in outbox.content(en).text
        assert "privacy@acme.example" in outbox.content(en).html


def _footer_contact(sessions: sessionmaker[Session], keyring: Keyring, cid: str) -> str:
    with sessions() as s, s.begin():
        outbox = Outbox(s, keyring)
        message = outbox.enqueue(cid, channel="email", to="wang@example.com", template="request_received",
                                 params={"reference": "R-1", "request_type": "access"}, language="en",
                                 actor="test").message
        return outbox.content(message).text.rsplit("Contact: ", 1)[1].split(" · ")[0]


def test_a_newly_published_policy_gives_the_next_message_its_contact(sessions: sessionmaker[Session],
                                                                     keyring: Keyring) -> None:
    """The policy in force is looked up for every message: one published since (and in force) is used at once, one
    that takes effect later is not yet."""
    with sessions() as s, s.begin():
        cid = make_controller(s)
    publish_policy(sessions, cid)
    assert _footer_contact(sessions, keyring, cid) == "Complaints: privacy@acme.example"

    def publish(version: str, effective: str, address: str) -> None:
        doc = yaml.safe_load(policy_text(cid, version, effective=effective))
        doc["controller"]["contacts"][0]["value"] = address
        with sessions() as s, s.begin():
            PolicyStore(s).publish(cid, yaml.safe_dump(doc, allow_unicode=True), source="test", actor="test")

    publish("2.0", "2099-01-01", "later@acme.example")
    assert _footer_contact(sessions, keyring, cid) == "Complaints: privacy@acme.example"
    publish("1.1", "2024-06-01", "dpo@acme.example")
    assert _footer_contact(sessions, keyring, cid) == "Complaints: dpo@acme.example"


def test_a_message_for_an_unknown_controller_is_refused(sessions: sessionmaker[Session], keyring: Keyring) -> None:
    with sessions() as s, s.begin(), pytest.raises(NotFound, match="no controller"):
        _enqueue(Outbox(s, keyring), "nobody-here")
    with sessions() as s:
        assert s.execute(select(func.count()).select_from(OutboxMessage)
                         .where(OutboxMessage.controller_id == "nobody-here")).scalar_one() == 0


def test_a_message_carries_the_controller_name_held_by_the_transaction_or_stored(
        sessions: sessionmaker[Session], keyring: Keyring) -> None:
    with sessions() as s, s.begin():
        cid = make_controller(s, "Old Name")
    with sessions() as s, s.begin():
        s.execute(update(Controller).where(Controller.id == cid).values(name="超润"))
        outbox = Outbox(s, keyring)
        assert outbox.content(_enqueue(outbox, cid)).subject == "超润身份验证码"  # read from the table
        controller = s.get(Controller, cid)
        assert controller is not None
        controller.name = "Lubpur"
        assert outbox.content(_enqueue(outbox, cid)).subject == "Lubpur身份验证码"  # the row this session holds
