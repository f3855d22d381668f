"""Compelled disclosure (LAN-LEGAL-DISCLOSURE): record the grounds and what was disclosed; tell the person promptly,
unless the record carries a lawful restriction with an expiry — then tell them when it ends (the scheduled check
`release_due`).

    Disclosures(session, keyring).record("acme", subject_id=…, authority="Shanghai PSB", grounds="CPL art. 54",
        disclosed_at=…, categories=["contact.email"], restriction_basis="Order 12: no notice for 90 days",
        restricted_until=…, actor="legal")
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import select

from charter.announcements import Audience, FanOut, fan_out
from charter.core.errors import CharterError
from charter.operations.common import OperationService, aware, contact_of, nonblank, policy_of
from charter.operations.models import CompelledDisclosure
from charter.subjects.models import Subject

__all__ = ["Disclosures"]


class Disclosures(OperationService):
    def record(self, controller_id: str, *, subject_id: str, authority: str, grounds: str,
               disclosed_at: dt.datetime, categories: Sequence[str], actor: str, reference: str | None = None,
               description: str | None = None, restriction_basis: str | None = None,
               restricted_until: dt.datetime | None = None) -> CompelledDisclosure:
        """Record a disclosure the law compelled; the person is told now, or when the restriction ends."""
        now = self.clock()
        policy = policy_of(self.session, controller_id)
        subject = self.session.get(Subject, subject_id)
        if subject is None or subject.controller_id != controller_id:
            raise CharterError("no such subject for this controller", field="subject_id",
                               fix="Give the id of the person whose data was disclosed (find it by email or phone).")
        when = aware(disclosed_at)
        if when > now + dt.timedelta(minutes=5):
            raise CharterError("disclosed_at is in the future", field="disclosed_at")
        if not categories:
            raise CharterError("say what was disclosed", field="categories",
                               fix=f"Use the policy's categories: {', '.join(c.id for c in policy.categories)}.")
        for i, category in enumerate(categories):
            if policy.category(category) is None:
                raise CharterError(f"{category!r} is not a category of the policy", field=f"categories[{i}]")
        basis, until = self._restriction(restriction_basis, restricted_until, now)
        disclosure = CompelledDisclosure(
            id=str(uuid.uuid4()), controller_id=controller_id, subject_id=subject_id,
            authority=nonblank(authority, "authority", 200), grounds=nonblank(grounds, "grounds"),
            reference=(reference or "").strip() or None, disclosed_at=when, categories=list(dict.fromkeys(categories)),
            description=(description or "").strip() or None, restriction_basis=basis, restricted_until=until,
            created_by=actor)
        self.session.add(disclosure)
        self.session.flush()
        self.audit.record(controller_id, actor=actor, action="disclosure.recorded",
                          target=f"disclosure:{disclosure.id}",
                          data={"subject_id": subject_id, "categories": disclosure.categories,
                                "disclosed_at": when.isoformat(),
                                "restricted_until": until.isoformat() if until else None})
        if until is None:
            self.notify(disclosure, actor=actor)
        return disclosure

    def _restriction(self, basis: str | None, until: dt.datetime | None,
                     now: dt.datetime) -> tuple[str | None, dt.datetime | None]:
        basis = (basis or "").strip() or None
        if basis is None and until is None:
            return None, None
        if basis is None:
            raise CharterError("a restriction on telling the person needs its lawful basis", field="restriction_basis",
                               fix="Name the order or provision that forbids telling them, or remove the expiry.")
        if until is None:
            raise CharterError("a restriction on telling the person needs an expiry", field="restricted_until",
                               fix="Give the date it ends; the person is told then (a restriction never lasts for "
                                   "ever here: record a new one if it is extended).")
        end = aware(until)
        if end <= now:
            raise CharterError("the restriction has already ended", field="restricted_until",
                               fix="Leave the restriction out: the person is then told at once.")
        return basis, end

    def notify(self, disclosure: CompelledDisclosure, *, actor: str) -> FanOut:
        """Tell the person (every channel their identities allow, and in-app); idempotent."""
        policy = policy_of(self.session, disclosure.controller_id)
        labels = [c.label for c in (policy.category(cid) for cid in disclosure.categories) if c is not None]
        params = {"authority": disclosure.authority, "grounds": disclosure.grounds, "categories": labels,
                  "disclosed_on": aware(disclosure.disclosed_at).date(), "reference": disclosure.reference or "",
                  "contact": contact_of(self.session, disclosure.controller_id)}
        audience = Audience(self.session, self.keyring, language_of=self.language_of)
        counts = fan_out(self.outbox, disclosure.controller_id, audience.person(disclosure.controller_id,
                                                                                disclosure.subject_id),
                         template="disclosure_notice", params=lambda _lang: params,
                         key=f"disclosure:{disclosure.id}", actor=actor)
        disclosure.notified_at, disclosure.notice_counts = self.clock(), counts.as_json()
        self.audit.record(disclosure.controller_id, actor=actor, action="disclosure.notified",
                          target=f"disclosure:{disclosure.id}", data=counts.as_json())
        return counts

    def release_due(self, *, actor: str = "scheduler", controller_id: str | None = None) -> list[CompelledDisclosure]:
        """Tell everyone whose disclosure's restriction has ended (of every controller, or one): the scheduled
        check."""
        q = select(CompelledDisclosure).where(CompelledDisclosure.notified_at.is_(None),
                                              CompelledDisclosure.restricted_until <= self.clock())
        if controller_id is not None:
            q = q.where(CompelledDisclosure.controller_id == controller_id)
        due = list(self.session.execute(q.order_by(CompelledDisclosure.restricted_until)).scalars())
        for disclosure in due:
            self.notify(disclosure, actor=actor)
        return due

    def get(self, controller_id: str, disclosure_id: str) -> CompelledDisclosure:
        return self._owned(CompelledDisclosure, controller_id, disclosure_id, "disclosure")

    def all(self, controller_id: str) -> list[CompelledDisclosure]:
        return list(self.session.execute(select(CompelledDisclosure).where(
            CompelledDisclosure.controller_id == controller_id).order_by(CompelledDisclosure.disclosed_at.desc()))
            .scalars())
