"""Writing and verifying the audit chain. Appends lock the controller row so the chain never forks."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from charter.audit.chain import GENESIS, ChainLink, Verification, event_hash, verify_links
from charter.audit.models import AuditEvent
from charter.core.db import utcnow
from charter.core.errors import NotFound
from charter.core.locks import locked_controller, move_head
from charter.core.models import Controller


class Entry(NamedTuple):
    """One event for `AuditLog.record_many`."""

    actor: str
    action: str
    target: str
    data: Mapping[str, object] | None = None


_PENDING = "charter.audit.pending"
# On the Table, not the mapped class: an ORM-enabled bulk INSERT costs several times what the Core one does, for the
# same statement and the same bound values (the columns' types convert `at` and `data` either way).
_INSERT = insert(cast(Table, AuditEvent.__table__))


@contextmanager
def batched(session: Session) -> Iterator[None]:
    """Audit events recorded in the block are written when it ends, in the order recorded, with one lock and
    one INSERT per controller instead of one each. Inside an outer block, the outer one writes them. If the block
    raises they are still written while the transaction can take them, in case the caller commits what it did;
    not when the database refused a statement (PostgreSQL has aborted the transaction then, and the INSERT would
    only hide that error behind its own).

    For a unit of work that records several events and reads none of them back before it ends (a request's
    submission, a settle of its tasks). Another chain writer in the block (the consent ledger's bulk path) stays
    correct: the events are chained from the head as it is when they are written."""
    if _PENDING in session.info:
        yield
        return
    pending: dict[str, list[Entry]] = {}
    session.info[_PENDING] = pending
    try:
        yield
    except BaseException as exc:
        del session.info[_PENDING]
        if session.is_active and not isinstance(exc, DBAPIError):
            _write(session, pending)
        raise
    del session.info[_PENDING]
    _write(session, pending)


def _write(session: Session, pending: Mapping[str, Sequence[Entry]]) -> None:
    log = AuditLog(session)
    for controller_id, entries in pending.items():
        log.record_many(controller_id, entries)


def next_event(controller_id: str, head_seq: int, head_hash: str, *, actor: str, action: str, target: str,
               data: Mapping[str, object] | None = None) -> dict[str, Any]:
    """The column values of the event that follows the controller's audit head (`audit_head_seq`,
    `audit_head_hash`, read under the controller row's lock), hash included. `AuditLog.record` writes it through
    the ORM; the consent ledger writes it in the statement that ends its batch (`charter.consent.bulk`)."""
    seq, prev = head_seq + 1, head_hash or GENESIS
    at, payload = utcnow(), dict(data or {})
    digest = event_hash(controller_id, seq=seq, at=at, actor=actor, action=action, target=target, data=payload,
                        prev_hash=prev)
    return {"controller_id": controller_id, "seq": seq, "at": at, "actor": actor, "action": action,
            "target": target, "data": payload, "prev_hash": prev, "hash": digest}


class AuditLog:
    def __init__(self, session: Session) -> None:
        self.session = session

    def record(
        self, controller_id: str, *, actor: str, action: str, target: str,
        data: Mapping[str, object] | None = None,
    ) -> AuditEvent | None:
        """Append one event (None when it waits for the end of a `batched` block)."""
        if self._defer(controller_id, [Entry(actor, action, target, data)]):
            return None
        controller = self._locked(controller_id)
        values = next_event(controller_id, controller.audit_head_seq, controller.audit_head_hash, actor=actor,
                            action=action, target=target, data=data)
        event = AuditEvent(**values)
        self.session.add(event)
        self.session.flush()
        move_head(self.session, controller, event.seq, event.hash)
        return event

    def record_many(self, controller_id: str, entries: Sequence[Entry]) -> int:
        """Append several events in order under one lock, with one INSERT: what a request's batch of tasks did.
        Returns the sequence number of the last one (0 when nothing was written now)."""
        if not entries or self._defer(controller_id, entries):
            return 0
        controller = self._locked(controller_id)
        seq, head = controller.audit_head_seq, controller.audit_head_hash
        rows: list[dict[str, Any]] = []
        for entry in entries:
            values = next_event(controller_id, seq, head, actor=entry.actor, action=entry.action,
                                target=entry.target, data=entry.data)
            rows.append(values)
            seq, head = values["seq"], values["hash"]
        self.session.flush()  # what the caller left pending goes first, as an ORM statement's autoflush would have it
        self.session.execute(_INSERT, rows)
        move_head(self.session, controller, seq, head)
        return seq

    def _defer(self, controller_id: str, entries: Sequence[Entry]) -> bool:
        pending: dict[str, list[Entry]] | None = self.session.info.get(_PENDING)
        if pending is None:
            return False
        pending.setdefault(controller_id, []).extend(entries)
        return True

    def _locked(self, controller_id: str) -> Controller:
        controller = locked_controller(self.session, controller_id)
        if controller is None:
            raise NotFound(f"no controller {controller_id!r}")
        return controller

    def record_read(self, controller_id: str, *, actor: str, target: str, fields: Sequence[str],
                    data: Mapping[str, object] | None = None) -> AuditEvent | None:
        """A staff member was shown personal data (LAN-SECURITY): who, whose record, which fields; never values.

        Example: `AuditLog(s).record_read("acme", actor="staff:3", target="staff:list", fields=["email"])`
        """
        return self.record(controller_id, actor=actor, action="personal_data.read", target=target,
                           data={**(data or {}), "fields": list(fields)})

    def verify(self, controller_id: str) -> Verification:
        controller = self.session.get(Controller, controller_id)
        if controller is None:
            raise NotFound(f"no controller {controller_id!r}")
        rows = self.session.execute(
            select(AuditEvent).where(AuditEvent.controller_id == controller_id).order_by(AuditEvent.seq)
        ).scalars()
        links = (ChainLink(r.controller_id, r.seq, r.at, r.actor, r.action, r.target, r.data, r.prev_hash,
                           r.hash) for r in rows)
        return verify_links(links, controller.audit_head_seq, controller.audit_head_hash)

    def events(self, controller_id: str, *, limit: int = 100, before_seq: int | None = None) -> list[AuditEvent]:
        q = select(AuditEvent).where(AuditEvent.controller_id == controller_id)
        if before_seq is not None:
            q = q.where(AuditEvent.seq < before_seq)
        return list(self.session.execute(q.order_by(AuditEvent.seq.desc()).limit(limit)).scalars())
