"""Legal holds — placed with a reason and an expiry, scoped to a dataset or collection and optionally one person;
while in force they suspend deletion of what they cover — and the record of past sweeps."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from charter.audit.services import AuditLog
from charter.core.crypto import Keyring
from charter.core.db import utcnow
from charter.core.errors import CharterError, Conflict, NotFound
from charter.datamap.services import DataMapStore, as_datamap
from charter.retention.models import LegalHold, RetentionRun
from charter.retention.rules import HoldScope
from charter.subjects.models import Subject
from charter.subjects.services import SubjectDirectory

__all__ = ["HOLD_REASON", "LegalHolds", "RetentionRuns", "aware"]

MAX_REASON = 2000


def aware(at: dt.datetime) -> dt.datetime:
    """Datetimes without a zone are read as UTC (SQLite hands them back so)."""
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


HOLD_REASON = "legal_hold"
"""The restriction code a hold on one person's rows sets: kept data is used for nothing but storage and security."""


_HOLDS = select(LegalHold).where(LegalHold.controller_id == bindparam("cid")).order_by(LegalHold.created_at,
                                                                                       LegalHold.id)
_HOLDS_IN_FORCE = select(LegalHold).where(
    LegalHold.controller_id == bindparam("cid"), LegalHold.released_at.is_(None),
    LegalHold.expires_at > bindparam("now")).order_by(LegalHold.created_at, LegalHold.id)
"""A controller's legal holds, and those in force at `now` (built once: every erasure asks)."""


class LegalHolds:
    def __init__(self, session: Session, keyring: Keyring) -> None:
        self.session = session
        self.audit = AuditLog(session)
        self.subjects = SubjectDirectory(session, keyring)

    def place(self, controller_id: str, *, dataset: str, reason: str, expires_at: dt.datetime, actor: str,
              collection: str | None = None, subject_id: str | None = None,
              now: dt.datetime | None = None) -> LegalHold:
        """Suspend deletion of a dataset (or one collection of it, or one person's rows there) until `expires_at`.

        Example: `LegalHolds(session, keyring).place("acme", dataset="shop_db", collection="orders", reason="Tax audit
        2025-17", expires_at=datetime(2026, 6, 30, tzinfo=UTC), actor="dpo@acme.example")`
        """
        reason = reason.strip()
        if not reason:
            raise CharterError("a legal hold needs a reason", field="reason",
                               fix="Say why the data must be kept (the case, the law, the authority's order).")
        if len(reason) > MAX_REASON:
            raise CharterError(f"the reason is longer than {MAX_REASON} characters", field="reason")
        expires = aware(expires_at)
        if expires <= (now or utcnow()):
            raise CharterError("the hold's expiry is in the past", field="expires_at",
                               fix="Give the date the hold ends, in the future; review and extend it then.")
        self._check_scope(controller_id, dataset, collection)
        if subject_id is not None:
            subject = self.session.get(Subject, subject_id)
            if subject is None or subject.controller_id != controller_id:
                raise CharterError("no such subject for this controller", field="subject_id",
                                   fix="Give the id of a person Charter knows (find it by their email or phone).")
        hold = LegalHold(id=str(uuid.uuid4()), controller_id=controller_id, dataset=dataset, collection=collection,
                         subject_id=subject_id, reason=reason, placed_by=actor, expires_at=expires)
        self.session.add(hold)
        self.session.flush()
        self.audit.record(controller_id, actor=actor, action="legal_hold.placed", target=f"legal_hold:{hold.id}",
                          data={"dataset": dataset, "collection": collection, "subject_id": subject_id,
                                "expires_at": expires.isoformat()})
        if subject_id is not None:
            # PIPL art. 47, last paragraph: data kept beyond its purpose is stored and secured, nothing else.
            self.subjects.restrict(controller_id, subject_id, HOLD_REASON, actor=actor)
        return hold

    def _check_scope(self, controller_id: str, dataset: str, collection: str | None) -> None:
        try:
            datamap = as_datamap(DataMapStore(self.session).current(controller_id))
        except NotFound as exc:
            raise CharterError("a hold names a dataset of the data map, and this controller has none published",
                               field="dataset", fix="Publish the data map first (`charter datamap publish`).") from exc
        found = datamap.dataset(dataset)
        if found is None:
            known = ", ".join(d.id for _s, d in datamap.datasets())
            raise CharterError(f"the data map has no dataset {dataset!r}", field="dataset",
                               fix=f"Use one of: {known}.")
        if collection is not None and found.collection(collection) is None:
            known = ", ".join(c.name for c in found.collections)
            raise CharterError(f"dataset {dataset!r} has no collection {collection!r}", field="collection",
                               fix=f"Use one of: {known}, or leave it out to hold the whole dataset.")

    def release(self, controller_id: str, hold_id: str, *, actor: str) -> LegalHold:
        hold = self.get(controller_id, hold_id)
        if hold.released_at is not None:
            raise Conflict("this hold was already released", fix="Nothing to do.")
        hold.released_at, hold.released_by = utcnow(), actor
        self.audit.record(controller_id, actor=actor, action="legal_hold.released", target=f"legal_hold:{hold.id}")
        if hold.subject_id is not None:
            self._lift_if_unheld(controller_id, hold.subject_id, utcnow(), actor)
        return hold

    def lift_lapsed(self, controller_id: str, now: dt.datetime, *, actor: str) -> list[str]:
        """Lift the restriction a hold set on people whose holds have all ended; the ids of those lifted."""
        restricted = self.session.execute(select(Subject.id).where(
            Subject.controller_id == controller_id, Subject.restriction_reason == HOLD_REASON)).scalars().all()
        return [s for s in restricted if self._lift_if_unheld(controller_id, s, now, actor)]

    def _lift_if_unheld(self, controller_id: str, subject_id: str, now: dt.datetime, actor: str) -> bool:
        subject = self.session.get(Subject, subject_id)
        if subject is None or subject.restriction_reason != HOLD_REASON:
            return False  # restricted for another reason (a request, say): not the hold's to lift
        if any(h.subject_id == subject_id for h in self.holds(controller_id, now=now)):
            return False
        self.subjects.lift_restriction(controller_id, subject_id, actor=actor)
        return True

    def get(self, controller_id: str, hold_id: str) -> LegalHold:
        hold = self.session.get(LegalHold, hold_id)
        if hold is None or hold.controller_id != controller_id:
            raise NotFound(f"no legal hold {hold_id!r}", fix="List holds with `charter retention holds`.")
        return hold

    def holds(self, controller_id: str, *, include_ended: bool = False,
             now: dt.datetime | None = None) -> list[LegalHold]:
        if include_ended:
            return list(self.session.execute(_HOLDS, {"cid": controller_id}).scalars())
        return list(self.session.execute(_HOLDS_IN_FORCE, {"cid": controller_id, "now": now or utcnow()}).scalars())

    def in_force(self, controller_id: str, now: dt.datetime | None = None) -> list[HoldScope]:
        return [HoldScope(h.id, h.dataset, h.collection, h.subject_id, aware(h.expires_at))
                for h in self.holds(controller_id, now=now)]

    def covering_subject(self, controller_id: str, subject_id: str,
                         now: dt.datetime | None = None) -> list[LegalHold]:
        """Holds in force on this person's rows (or on whole datasets): what an erasure must report as held."""
        return [h for h in self.holds(controller_id, now=now) if h.subject_id in (None, subject_id)]


class RetentionRuns:
    def __init__(self, session: Session) -> None:
        self.session = session

    def latest(self, controller_id: str, limit: int = 20) -> list[RetentionRun]:
        return list(self.session.execute(
            select(RetentionRun).where(RetentionRun.controller_id == controller_id)
            .order_by(RetentionRun.started_at.desc(), RetentionRun.id).limit(limit)).scalars())

    def get(self, controller_id: str, run_id: str) -> RetentionRun:
        run = self.session.get(RetentionRun, run_id)
        if run is None or run.controller_id != controller_id:
            raise NotFound(f"no retention run {run_id!r}", fix="List runs with `charter retention runs`.")
        return run
