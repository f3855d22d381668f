"""Recording disclosures (the host reports each hand-over to a recipient) and reading them back per person."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from charter.audit.services import AuditLog
from charter.core.errors import CharterError
from charter.disclosures.models import Disclosure
from charter.policy.services import PolicyStore, as_policy

__all__ = ["DisclosureLog", "DisclosureView"]


@dataclass(frozen=True)
class DisclosureView:
    id: int
    recipient_id: str
    categories: tuple[str, ...]
    purpose: str | None
    is_compelled: bool
    disclosed_at: dt.datetime


class DisclosureLog:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.audit = AuditLog(session)

    def record(self, controller_id: str, subject_id: str, *, recipient_id: str, categories: Sequence[str],
               purpose: str | None = None, is_compelled: bool = False, actor: str) -> Disclosure:
        """Log that `recipient_id` received these categories of the person's data. The recipient and categories
        must be the policy's: a hand-over the policy does not declare is refused, not logged."""
        policy = as_policy(PolicyStore(self.session).in_force(controller_id))
        recipient = policy.recipient(recipient_id)
        if recipient is None:
            raise CharterError(f"the policy in force declares no recipient {recipient_id!r}", field="recipient",
                               fix=f"Use one of: {', '.join(r.id for r in policy.recipients) or '(none declared)'}.")
        unknown = [c for c in categories if policy.category(c) is None]
        if not categories or unknown:
            raise CharterError(f"unknown categories: {', '.join(unknown)}" if unknown else "no categories given",
                               field="categories", fix="Name the policy's category ids the recipient received.")
        if purpose is not None and policy.purpose(purpose) is None:
            raise CharterError(f"the policy declares no purpose {purpose!r}", field="purpose")
        row = Disclosure(controller_id=controller_id, subject_id=subject_id, recipient_id=recipient_id,
                         categories=sorted(set(categories)), purpose=purpose, policy_version=policy.version,
                         is_compelled=is_compelled, reported_by=actor)
        self.session.add(row)
        self.session.flush()
        self.audit.record(controller_id, actor=actor, action="disclosure.recorded", target=f"disclosure:{row.id}",
                          data={"subject_id": subject_id, "recipient": recipient_id, "categories": row.categories})
        return row

    def of_subject(self, controller_id: str, subject_id: str) -> list[DisclosureView]:
        rows = self.session.execute(select(Disclosure).where(
            Disclosure.controller_id == controller_id, Disclosure.subject_id == subject_id)
            .order_by(Disclosure.disclosed_at, Disclosure.id)).scalars()
        return [DisclosureView(r.id, r.recipient_id, tuple(r.categories), r.purpose, r.is_compelled, r.disclosed_at)
                for r in rows]

    def recipients_of(self, controller_id: str, subject_id: str) -> list[tuple[str, set[str]]]:
        """Each recipient the person's data went to, with every category it received."""
        self.session.flush()  # a Core statement follows: disclosures still pending are written first
        merged: dict[str, set[str]] = {}
        rows = self.session.connection().execute(_RECIPIENTS, {"cid": controller_id, "sid": subject_id})
        for recipient_id, categories in rows:
            merged.setdefault(recipient_id, set()).update(categories)
        return sorted(merged.items())


_DISCLOSURES = cast(Table, Disclosure.__table__)
_RECIPIENTS = select(_DISCLOSURES.c.recipient_id, _DISCLOSURES.c.categories).where(
    _DISCLOSURES.c.controller_id == bindparam("cid"), _DISCLOSURES.c.subject_id == bindparam("sid"))
"""`recipients_of`'s query: two columns, no ORM objects, built once."""
