"""Writing and verifying the audit chain. Appends lock the controller row so the chain never forks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from charter.audit.chain import GENESIS, ChainLink, Verification, event_hash, verify_links
from charter.audit.models import AuditEvent
from charter.core.db import utcnow
from charter.core.errors import NotFound
from charter.core.models import Controller


class AuditLog:
    def __init__(self, session: Session) -> None:
        self.session = session

    def record(
        self, controller_id: str, *, actor: str, action: str, target: str,
        data: Mapping[str, object] | None = None,
    ) -> AuditEvent:
        controller = self.session.execute(
            select(Controller).where(Controller.id == controller_id).with_for_update()
        ).scalar_one_or_none()
        if controller is None:
            raise NotFound(f"no controller {controller_id!r}")
        seq, prev = controller.audit_head_seq + 1, controller.audit_head_hash or GENESIS
        at, payload = utcnow(), dict(data or {})
        digest = event_hash(controller_id, seq=seq, at=at, actor=actor, action=action, target=target,
                            data=payload, prev_hash=prev)
        event = AuditEvent(controller_id=controller_id, seq=seq, at=at, actor=actor, action=action,
                           target=target, data=payload, prev_hash=prev, hash=digest)
        self.session.add(event)
        controller.audit_head_seq, controller.audit_head_hash = seq, digest
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
