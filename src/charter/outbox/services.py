"""The outbox's SQL: enqueue in the caller's transaction, claim and settle deliveries, bounces, in-app notices,
webhook endpoints, and re-encryption after key rotation. Services never commit.

    queued = Outbox(session, keyring).enqueue(
        "lubpur", channel="email", to="wang@example.com", template="verification_code",
        params={"code": "042917", "expires_minutes": 10}, language="zh-CN", actor="requests")
    # … the caller commits; the sender delivers it afterwards.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, cast
from urllib.parse import urlsplit

from sqlalchemy import Table, bindparam, delete, event, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from charter.audit.services import AuditLog
from charter.core.crypto import Keyring, KeyringError
from charter.core.db import utcnow
from charter.core.errors import CharterError, Conflict, NotFound
from charter.core.i18n import Lang, Text
from charter.core.locks import locked_controller
from charter.core.models import Controller
from charter.outbox.delivery import DeliveryError, RecipientRejected, RetryPolicy, TransientFailure
from charter.outbox.interfaces import Outgoing, WebhookTarget
from charter.outbox.models import Channel, OutboxMessage, Status, SuppressedAddress, WebhookEndpoint
from charter.outbox.rendering import Marketing, Rendered, render, spec_of
from charter.policy.contacts import contact_text
from charter.policy.services import policy_in_force
from charter.subjects.normalise import normalise_email, normalise_phone
from charter.subjects.services import REENCRYPTORS, SubjectDirectory

SENDER_ACTOR = "outbox-sender"
_PUSH_MAX = 512
# Enqueueing is on every request's path: its statements are built once, on the tables, which costs a third of an ORM
# statement built for each message. The row goes in with a Core INSERT: no caller needs the ORM object
# (`Queued.message` reads it when asked). Core statements do not autoflush, and need not: messages are only added
# here, at once, and a controller is flushed when it is created (its first audit event).
_MESSAGES = cast(Table, OutboxMessage.__table__)
_INSERT = insert(_MESSAGES)

# A caller's idempotency key is tried by inserting under it: the unique (controller_id, idempotency_key) index
# answers in the INSERT itself, and only a key used before costs a second statement (`_BY_KEY`). Charter's own
# database is SQLite or PostgreSQL (the settings refuse any other), each with its own ON CONFLICT.
_KEY = (_MESSAGES.c.controller_id, _MESSAGES.c.idempotency_key)
_INSERT_NEW = {
    "postgresql": postgresql.insert(_MESSAGES).on_conflict_do_nothing(index_elements=_KEY).returning(_MESSAGES.c.id),
    "sqlite": sqlite.insert(_MESSAGES).on_conflict_do_nothing(index_elements=_KEY).returning(_MESSAGES.c.id),
}
_BY_KEY = select(_MESSAGES.c.id, _MESSAGES.c.fingerprint).where(
    _MESSAGES.c.controller_id == bindparam("controller_id"), _MESSAGES.c.idempotency_key == bindparam("key"))


def recipient_context(controller_id: str) -> str:
    return f"outbox_messages.recipient:{controller_id}"


def content_context(controller_id: str) -> str:
    return f"outbox_messages.content:{controller_id}"


def secret_context(controller_id: str) -> str:
    return f"outbox_webhooks.secret:{controller_id}"


def parse_channel(channel: Channel | str) -> Channel:
    try:
        return Channel(channel)
    except ValueError as exc:
        raise CharterError(f"unknown channel {channel!r}", field="channel",
                           fix=f"Use one of: {', '.join(c.value for c in Channel)}.") from exc


def parse_language(language: Lang | str) -> Lang:
    if isinstance(language, Lang):
        return language
    try:
        return Lang.parse(language)
    except ValueError as exc:
        raise CharterError(str(exc), field="language") from exc


def normalise_address(channel: Channel, address: str) -> str:
    if channel is Channel.EMAIL:
        return normalise_email(address)
    if channel is Channel.SMS:
        return normalise_phone(address)
    address = address.strip()
    if not address or len(address) > _PUSH_MAX:
        raise CharterError(f"the {channel.value} recipient is empty or too long", field="to",
                           fix=f"Give the device token or account id (at most {_PUSH_MAX} characters).")
    return address


@dataclass(frozen=True)
class Queued:
    id: str
    created: bool
    """False when the idempotency key was used before: enqueueing is idempotent."""
    session: Session = field(repr=False, compare=False)

    @property
    def message(self) -> OutboxMessage:
        """The message's row, read when asked for: most callers only need to know it is queued."""
        message = self.session.get(OutboxMessage, self.id)
        if message is None:
            raise NotFound(f"no outbox message {self.id!r}")
        return message


@dataclass(frozen=True)
class Notice:
    """An in-app notice as the privacy centre shows it."""

    id: str
    template: str
    language: Lang
    subject: str
    text: str
    html: str
    created_at: dt.datetime
    read_at: dt.datetime | None


def _encode(content: Rendered) -> str:
    return json.dumps(asdict(content), ensure_ascii=False, separators=(",", ":"))


def _decode(text: str) -> Rendered:
    raw = json.loads(text)
    return Rendered(raw["subject"], raw["text"], raw["html"], dict(raw["headers"]))


class Suppressions:
    """Addresses that bounced, by blind index: nothing is sent to them until cleared."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.audit = AuditLog(session)

    def find(self, controller_id: str, channel: Channel, index: str) -> SuppressedAddress | None:
        return self.session.execute(select(SuppressedAddress).where(
            SuppressedAddress.controller_id == controller_id, SuppressedAddress.channel == channel.value,
            SuppressedAddress.recipient_index == index)).scalar_one_or_none()

    def add(self, controller_id: str, channel: Channel, index: str, reason: str, *, actor: str) -> SuppressedAddress:
        found = self.find(controller_id, channel, index)
        if found is not None:
            return found
        row = SuppressedAddress(controller_id=controller_id, channel=channel.value, recipient_index=index,
                                reason=reason[:300])
        self.session.add(row)
        self.session.flush()
        self.audit.record(controller_id, actor=actor, action="outbox.address_suppressed",
                          target=f"suppression:{row.id}", data={"channel": channel.value, "reason": reason[:300]})
        return row

    def remove(self, controller_id: str, channel: Channel, index: str, *, actor: str) -> bool:
        row = self.find(controller_id, channel, index)
        if row is None:
            return False
        self.session.delete(row)
        self.session.flush()
        self.audit.record(controller_id, actor=actor, action="outbox.address_cleared",
                          target=f"suppression:{row.id}", data={"channel": channel.value})
        return True


class Outbox:
    """What every other part calls: enqueue a message, read one back, bounces, in-app notices."""

    def __init__(self, session: Session, keyring: Keyring, *, notify: Callable[[], None] | None = None) -> None:
        self.session = session
        self.keyring = keyring
        self.audit = AuditLog(session)
        self.suppressions = Suppressions(session)
        self.notify = notify
        """Called after the caller's transaction commits, to wake the sender (optional)."""

    def _contact(self, controller_id: str) -> Text | None:
        """Whom to contact about the message (LUB-CONTACT): the policy's first contact, in every message's footer."""
        policy = policy_in_force(self.session, controller_id)
        return contact_text(policy, first=1) if policy is not None else None

    def _controller(self, controller_id: str) -> Controller:
        """The controller's row, for its name, read under its lock: the message's audit event takes that lock in
        this transaction anyway, and then finds this row instead of locking again (`locked_controller`)."""
        controller = locked_controller(self.session, controller_id)
        if controller is None:
            raise NotFound(f"no controller {controller_id!r}")
        return controller

    def _index(self, controller_id: str, channel: Channel, address: str) -> str:
        return self.keyring.blind_index(f"{controller_id}:outbox:{channel.value}", address)

    def enqueue(
        self, controller_id: str, *, channel: Channel | str, template: str, params: Mapping[str, object],
        language: Lang | str, to: str | None = None, subject_id: str | None = None,
        idempotency_key: str | None = None, marketing: Marketing | None = None, actor: str,
    ) -> Queued:
        """Render `template` in `language` and queue it; the message leaves only after the caller commits.

        In-app notices (`channel="in_app"`) need `subject_id` and no `to`; they are delivered on commit.
        The same `idempotency_key` twice gives back the first message (and a different message under a key
        already used is a `Conflict`).
        """
        ch, lang = parse_channel(channel), parse_language(language)
        controller_name = self._controller(controller_id).name
        if subject_id is not None:
            SubjectDirectory(self.session, self.keyring).get(controller_id, subject_id)
        address = self._address(ch, to, subject_id)
        index = self._index(controller_id, ch, address)
        spec_of(template)  # an unknown template is refused even under a key seen before
        fingerprint = self.keyring.blind_index(f"{controller_id}:outbox:request", json.dumps(
            [ch.value, index, template, lang.value, subject_id, params, marketing and asdict(marketing)],
            sort_keys=True, default=repr, ensure_ascii=False))
        try:
            rendered = self._render(controller_id, controller_name, template, lang, params, marketing=marketing)
        except CharterError:
            # A key used before decides first: the same message is the earlier one, a different one a Conflict.
            earlier = self._earlier(controller_id, idempotency_key, fingerprint)
            if earlier is None:
                raise
            return earlier
        message_id = self._store(controller_id, channel=ch, address=address, index=index, lang=lang,
                                 template=template, rendered=rendered, subject_id=subject_id,
                                 idempotency_key=idempotency_key, fingerprint=fingerprint,
                                 is_marketing=marketing is not None)
        if message_id is None:
            return self._used(controller_id, idempotency_key, fingerprint)
        self.audit.record(controller_id, actor=actor, action="outbox.queued", target=f"outbox:{message_id}",
                          data={"channel": ch.value, "template": template, "language": lang.value,
                                "subject_id": subject_id})
        if ch is Channel.IN_APP:
            self.audit.record(controller_id, actor=actor, action="outbox.sent", target=f"outbox:{message_id}",
                              data={"channel": ch.value})
        elif self.notify is not None:
            event.listen(self.session, "after_commit", lambda _s: self._wake(), once=True)
        return Queued(message_id, created=True, session=self.session)

    def _wake(self) -> None:
        if self.notify is not None:
            self.notify()

    def _render(self, controller_id: str, controller_name: str, template: str, lang: Lang,
                params: Mapping[str, object], *, marketing: Marketing | None) -> Rendered:
        contact = self._contact(controller_id)
        return render(template, lang, {**params, "controller_name": controller_name,
                                       "controller_contact": contact.get(lang) if contact else ""},
                      marketing=marketing)

    def _address(self, channel: Channel, to: str | None, subject_id: str | None) -> str:
        if channel is Channel.IN_APP:
            if subject_id is None:
                raise CharterError("an in-app notice needs the subject it is for", field="subject_id",
                                   fix="Pass subject_id; in-app notices are shown in that person's privacy centre.")
            return subject_id
        if not to:
            raise CharterError(f"a {channel.value} message needs a recipient", field="to")
        return normalise_address(channel, to)

    def _store(self, controller_id: str, *, channel: Channel, address: str, index: str, lang: Lang,
               template: str, rendered: Rendered, subject_id: str | None, idempotency_key: str | None,
               fingerprint: str, is_marketing: bool) -> str | None:
        """Insert the message; an in-app notice is delivered as it is stored (on commit). Returns its id, or None
        when `idempotency_key` was used before (nothing is inserted then)."""
        message_id, now = str(uuid.uuid4()), utcnow()
        delivered = channel is Channel.IN_APP
        row = {
            "id": message_id, "controller_id": controller_id, "subject_id": subject_id, "channel": channel.value,
            "recipient_encrypted": self.keyring.encrypt(address, recipient_context(controller_id)),
            "recipient_index": index, "language": lang.value, "template": template,
            "content_encrypted": self.keyring.encrypt(_encode(rendered), content_context(controller_id)),
            "is_marketing": is_marketing, "status": (Status.SENT if delivered else Status.QUEUED).value,
            "attempts": 0, "next_attempt_at": now, "last_error": None,
            "idempotency_key": idempotency_key or f"auto:{message_id}", "fingerprint": fingerprint,
            "created_at": now, "sent_at": now if delivered else None, "read_at": None}
        if idempotency_key is None:  # a key of its own, which nothing else can hold
            self.session.execute(_INSERT, row)
            return message_id
        inserted = self.session.execute(_INSERT_NEW[self.session.get_bind().dialect.name], row)
        return message_id if inserted.first() is not None else None

    def _earlier(self, controller_id: str, key: str | None, fingerprint: str) -> Queued | None:
        """The message queued before under `key`, None when there is none: the same message again is that one,
        and a different one a `Conflict`."""
        found = self.session.execute(_BY_KEY, {"controller_id": controller_id, "key": key}).first() \
            if key is not None else None
        if found is None:
            return None
        if found.fingerprint != fingerprint:
            raise Conflict("this idempotency key was used for a different message",
                           field="idempotency_key", fix="Use a new key for a new message.")
        return Queued(found.id, created=False, session=self.session)

    def _used(self, controller_id: str, key: str | None, fingerprint: str) -> Queued:
        """`_earlier` once the INSERT found `key` taken: the message is there to read (nothing deletes messages;
        one removed by hand in between is answered with a retry)."""
        earlier = self._earlier(controller_id, key, fingerprint)
        if earlier is None:
            raise Conflict("the message under this idempotency key went away while it was being queued",
                           field="idempotency_key", fix="Try again.")
        return earlier

    def get(self, controller_id: str, message_id: str) -> OutboxMessage:
        message = self.session.get(OutboxMessage, message_id)
        if message is None or message.controller_id != controller_id:
            raise NotFound(f"no outbox message {message_id!r}",
                           fix="List messages with `charter outbox list --controller ID`.")
        return message

    def messages(self, controller_id: str, *, status: Status | str | None = None,
                 limit: int = 100) -> list[OutboxMessage]:
        q = select(OutboxMessage).where(OutboxMessage.controller_id == controller_id)
        if status is not None:
            q = q.where(OutboxMessage.status == Status(status).value)
        return list(self.session.execute(
            q.order_by(OutboxMessage.created_at.desc(), OutboxMessage.id).limit(limit)).scalars())

    def recipient(self, message: OutboxMessage) -> str:
        return self.keyring.decrypt(message.recipient_encrypted, recipient_context(message.controller_id))

    def content(self, message: OutboxMessage) -> Rendered:
        return _decode(self.keyring.decrypt(message.content_encrypted, content_context(message.controller_id)))

    # Bounces -----------------------------------------------------------------------------------------------

    def is_suppressed(self, controller_id: str, address: str, channel: Channel | str = Channel.EMAIL) -> bool:
        ch = parse_channel(channel)
        index = self._index(controller_id, ch, normalise_address(ch, address))
        return self.suppressions.find(controller_id, ch, index) is not None

    def mark_bounced(self, controller_id: str, *, message_id: str | None = None, address: str | None = None,
                     channel: Channel | str = Channel.EMAIL, reason: str = "reported bounce",
                     actor: str) -> SuppressedAddress:
        """Suppress an address (given, or the one a message went to); a bounced message is marked so too."""
        if (message_id is None) == (address is None):
            raise CharterError("give either a message id or an address", field="message_id")
        if message_id is not None:
            message = self.get(controller_id, message_id)
            ch, index = Channel(message.channel), message.recipient_index
            if message.status in (Status.SENT.value, Status.SENDING.value, Status.QUEUED.value):
                message.status, message.last_error = Status.BOUNCED.value, reason[:300]
                self.audit.record(controller_id, actor=actor, action="outbox.bounced", target=f"outbox:{message.id}",
                                  data={"channel": ch.value, "reason": reason[:300]})
        else:
            ch = parse_channel(channel)
            index = self._index(controller_id, ch, normalise_address(ch, address or ""))
        return self.suppressions.add(controller_id, ch, index, reason, actor=actor)

    def clear_bounce(self, controller_id: str, address: str, *, channel: Channel | str = Channel.EMAIL,
                     actor: str) -> bool:
        """Allow mail to an address again; False when it was not suppressed."""
        ch = parse_channel(channel)
        index = self._index(controller_id, ch, normalise_address(ch, address))
        return self.suppressions.remove(controller_id, ch, index, actor=actor)

    # In-app notices ----------------------------------------------------------------------------------------

    def notices_for(self, controller_id: str, subject_id: str, *, unread_only: bool = False) -> list[Notice]:
        """The subject's in-app notices, newest first."""
        q = select(OutboxMessage).where(
            OutboxMessage.controller_id == controller_id, OutboxMessage.subject_id == subject_id,
            OutboxMessage.channel == Channel.IN_APP.value)
        if unread_only:
            q = q.where(OutboxMessage.read_at.is_(None))
        rows = self.session.execute(q.order_by(OutboxMessage.created_at.desc(), OutboxMessage.id)).scalars()
        notices = []
        for row in rows:
            content = self.content(row)
            notices.append(Notice(row.id, row.template, Lang(row.language), content.subject, content.text,
                                  content.html, row.created_at, row.read_at))
        return notices

    def mark_read(self, controller_id: str, subject_id: str, message_id: str, *, actor: str) -> None:
        message = self.get(controller_id, message_id)
        if message.subject_id != subject_id or message.channel != Channel.IN_APP.value:
            raise NotFound(f"no notice {message_id!r} for this person")
        if message.read_at is None:
            message.read_at = utcnow()
            self.audit.record(controller_id, actor=actor, action="outbox.notice_read",
                              target=f"outbox:{message.id}")


@dataclass
class Batch:
    ready: list[Outgoing] = field(default_factory=list)
    """Claimed and decrypted, to be sent now."""
    settled: dict[Status, int] = field(default_factory=dict)
    """Settled without being sent: failed (suppressed address, out of attempts after a crash), or queued again
    (a message this keyring cannot decrypt)."""

    def count(self, status: Status) -> None:
        self.settled[status] = self.settled.get(status, 0) + 1


class DeliveryQueue:
    """The sender's side: claim due messages, then settle each attempt. Each call is one short transaction."""

    def __init__(self, session: Session, keyring: Keyring) -> None:
        self.session = session
        self.keyring = keyring
        self.audit = AuditLog(session)
        self.outbox = Outbox(session, keyring)
        self.suppressions = Suppressions(session)

    def claim(self, now: dt.datetime, limit: int, *, lease: dt.timedelta, retry: RetryPolicy,
              controller_id: str | None = None) -> Batch:
        """Take up to `limit` due messages (queued, or sending whose lease ran out after a crash)."""
        q = (select(OutboxMessage, Controller.name).join(Controller, Controller.id == OutboxMessage.controller_id)
             .where(OutboxMessage.status.in_((Status.QUEUED.value, Status.SENDING.value)),
                    OutboxMessage.next_attempt_at <= now))
        if controller_id is not None:
            q = q.where(OutboxMessage.controller_id == controller_id)
        rows = self.session.execute(
            q.order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit)
            .with_for_update(skip_locked=True, of=OutboxMessage)
        ).all()
        batch = Batch()
        for message, controller_name in sorted(rows, key=lambda r: (r[0].controller_id, r[0].id)):
            if self._refuse(message, retry):
                batch.count(Status.FAILED)
                continue
            message.status, message.attempts = Status.SENDING.value, message.attempts + 1
            message.next_attempt_at = now + lease
            self.audit.record(message.controller_id, actor=SENDER_ACTOR, action="outbox.sending",
                              target=f"outbox:{message.id}", data={"attempt": message.attempts})
            try:
                batch.ready.append(self._outgoing(message, controller_name))
            except KeyringError as exc:
                # One message this keyring cannot open (a key lost or not yet loaded) must not hold up the rest:
                # it counts as a failed attempt, retried with backoff until the policy gives up.
                batch.count(self._settle(message, TransientFailure(f"cannot be decrypted: {exc.message}"), now,
                                         retry))
        self.session.flush()
        return batch

    def _refuse(self, message: OutboxMessage, retry: RetryPolicy) -> bool:
        """Fail, without trying, a message to a suppressed address or one out of attempts after a crash."""
        channel = Channel(message.channel)
        if self.suppressions.find(message.controller_id, channel, message.recipient_index) is not None:
            self._finish(message, Status.FAILED, "not sent: the address bounced before and is suppressed")
            return True
        if retry.gives_up_after(message.attempts):
            self._finish(message, Status.FAILED, f"gave up after {message.attempts} attempt(s)")
            return True
        return False

    def _outgoing(self, message: OutboxMessage, controller_name: str) -> Outgoing:
        channel = Channel(message.channel)
        webhook = None
        if channel in (Channel.SMS, Channel.PUSH):
            webhook = WebhookEndpoints(self.session, self.keyring).target(message.controller_id, channel)
        return Outgoing(id=message.id, controller_id=message.controller_id, controller_name=controller_name,
                        channel=channel, to=self.outbox.recipient(message), language=Lang(message.language),
                        template=message.template, content=self.outbox.content(message), webhook=webhook)

    def settle(self, message_id: str, error: DeliveryError | None, now: dt.datetime, retry: RetryPolicy) -> Status:
        """Record how an attempt ended: sent, retry later (backoff), failed, or bounced."""
        message = self.session.get(OutboxMessage, message_id, with_for_update=True)
        if message is None or message.status != Status.SENDING.value:
            # Deleted (the person was erased) or marked meanwhile: nothing to record.
            return Status(message.status) if message else Status.FAILED
        return self._settle(message, error, now, retry)

    def _settle(self, message: OutboxMessage, error: DeliveryError | None, now: dt.datetime,
                retry: RetryPolicy) -> Status:
        if error is None:
            message.sent_at = now
            return self._finish(message, Status.SENT, None)
        if isinstance(error, RecipientRejected):
            self.suppressions.add(message.controller_id, Channel(message.channel), message.recipient_index,
                                  error.reason, actor=SENDER_ACTOR)
            return self._finish(message, Status.BOUNCED, error.reason)
        if isinstance(error, TransientFailure) and not retry.gives_up_after(message.attempts):
            message.status, message.last_error = Status.QUEUED.value, error.reason
            message.next_attempt_at = now + retry.delay(message.attempts)
            self.audit.record(message.controller_id, actor=SENDER_ACTOR, action="outbox.retry_scheduled",
                              target=f"outbox:{message.id}",
                              data={"attempt": message.attempts, "error": error.reason,
                                    "next_attempt_at": message.next_attempt_at.isoformat()})
            return Status.QUEUED
        reason = error.reason if not isinstance(error, TransientFailure) else \
            f"{error.reason}; gave up after {message.attempts} attempt(s)"
        return self._finish(message, Status.FAILED, reason)

    def _finish(self, message: OutboxMessage, status: Status, error: str | None) -> Status:
        message.status, message.last_error = status.value, error[:300] if error else None
        data: dict[str, Any] = {"channel": message.channel, "attempt": message.attempts}
        if error:
            data["error"] = error[:300]
        self.audit.record(message.controller_id, actor=SENDER_ACTOR, action=f"outbox.{status.value}",
                          target=f"outbox:{message.id}", data=data)
        self.session.flush()
        return status


class WebhookEndpoints:
    """Per-controller webhook for SMS and for push; the secret is stored encrypted."""

    def __init__(self, session: Session, keyring: Keyring) -> None:
        self.session = session
        self.keyring = keyring
        self.audit = AuditLog(session)

    def set(self, controller_id: str, channel: Channel | str, url: str, secret: str, *,
            actor: str) -> WebhookEndpoint:
        ch = parse_channel(channel)
        if ch not in (Channel.SMS, Channel.PUSH):
            raise CharterError(f"{ch.value} is not sent through a webhook", field="channel",
                               fix="Webhooks carry sms and push; email goes over SMTP.")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise CharterError("the webhook URL must be an absolute http(s) URL", field="url")
        if len(secret) < 16:
            raise CharterError("the webhook secret is shorter than 16 characters", field="secret",
                               fix="Use a long random secret, or let Charter generate one.")
        if self.session.get(Controller, controller_id) is None:
            raise NotFound(f"no controller {controller_id!r}")
        row = self.session.get(WebhookEndpoint, (controller_id, ch.value))
        if row is None:
            row = WebhookEndpoint(controller_id=controller_id, channel=ch.value)
            self.session.add(row)
        row.url, row.updated_at = url, utcnow()
        row.secret_encrypted = self.keyring.encrypt(secret, secret_context(controller_id))
        self.session.flush()
        self.audit.record(controller_id, actor=actor, action="outbox.webhook_set",
                          target=f"webhook:{ch.value}", data={"host": parts.netloc})
        return row

    def target(self, controller_id: str, channel: Channel) -> WebhookTarget | None:
        row = self.session.get(WebhookEndpoint, (controller_id, channel.value))
        if row is None:
            return None
        return WebhookTarget(row.url, self.keyring.decrypt(row.secret_encrypted, secret_context(controller_id)))

    def list(self, controller_id: str) -> list[WebhookEndpoint]:
        return list(self.session.execute(select(WebhookEndpoint).where(
            WebhookEndpoint.controller_id == controller_id).order_by(WebhookEndpoint.channel)).scalars())

    def remove(self, controller_id: str, channel: Channel | str, *, actor: str) -> bool:
        ch = parse_channel(channel)
        done = self.session.execute(delete(WebhookEndpoint).where(
            WebhookEndpoint.controller_id == controller_id, WebhookEndpoint.channel == ch.value))
        if not getattr(done, "rowcount", 0):
            return False
        self.audit.record(controller_id, actor=actor, action="outbox.webhook_removed", target=f"webhook:{ch.value}")
        return True


def _rotate(old: Keyring, new: Keyring, token: str, context: str) -> str | None:
    if new.key_id_of(token) == new.active:
        return None
    return new.encrypt(old.decrypt(token, context), context)


def reencrypt_outbox(session: Session, old: Keyring, new: Keyring) -> int:
    done = 0
    for row in session.execute(select(OutboxMessage)).scalars():
        recipient = _rotate(old, new, row.recipient_encrypted, recipient_context(row.controller_id))
        content = _rotate(old, new, row.content_encrypted, content_context(row.controller_id))
        if recipient is not None:
            row.recipient_encrypted = recipient
        if content is not None:
            row.content_encrypted = content
        done += (recipient is not None) + (content is not None)
    for hook in session.execute(select(WebhookEndpoint)).scalars():
        secret = _rotate(old, new, hook.secret_encrypted, secret_context(hook.controller_id))
        if secret is not None:
            hook.secret_encrypted, done = secret, done + 1
    session.flush()
    return done


REENCRYPTORS.append(reencrypt_outbox)
