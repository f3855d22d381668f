"""Writing and verifying the audit chain. Appends lock the controller row so the chain never forks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from charter.audit.chain import GENESIS, ChainLink, Verification, event_hash, verify_links
from charter.audit.models import AuditEvent
from charter.core.db import utcnow
from charter.core.errors import NotFound
from charter.core.locks import lock_controller
from charter.core.models import Controller


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
    ) -> AuditEvent:
        if not lock_controller(self.session, controller_id):
            raise NotFound(f"no controller {controller_id!r}")
        # populate_existing: a Controller loaded earlier in this session (a page's sign-in check) would otherwise
        # hand back its stale head, and two writers would take the same seq.
        controller = self.session.execute(
            select(Controller).where(Controller.id == controller_id).execution_options(populate_existing=True)
        ).scalar_one()
        values = next_event(controller_id, controller.audit_head_seq, controller.audit_head_hash, actor=actor,
                            action=action, target=target, data=data)
        event = AuditEvent(**values)
        self.session.add(event)
        controller.audit_head_seq, controller.audit_head_hash = event.seq, event.hash
        self.session.flush()
        return event

    def record_read(self, controller_id: str, *, actor: str, target: str, fields: Sequence[str],
                    data: Mapping[str, object] | None = None) -> AuditEvent:
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
