"""The consent ledger: append events (validated, hash-chained, projected in the same transaction), read state and
history, receipts, verification, erasure tombstones, expiry and re-consent sweeps, and linking a banner visitor to
the account they log in to.

An append checks every event and seals it (salt, commitments, encrypted evidence, the canonical bytes its hash
covers) before it takes any lock, so concurrent requests overlap in that work. Only then does it lock the
controller row (as the audit log does, so two writers never deadlock) and the ledger head, chain the events
(one short SHA-256 each), write them (COPY on PostgreSQL), upsert the projection and write ONE audit event for the
batch: the ledger is its own hash chain, so the audit log only needs to say that a batch happened.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from charter.accounts.services import ensure_collecting
from charter.audit.chain import Verification
from charter.audit.services import AuditLog, next_event
from charter.consent.banner import CurrentConsent, categories, choice_events
from charter.consent.bulk import copy_rows, finish_batch, is_postgres, lock_chain, upsert_rows
from charter.consent.chain import (
    GENESIS,
    LedgerLink,
    ProjectedState,
    commitment,
    fields_body,
    iso,
    link_hash,
    replay,
    verify_chain,
)
from charter.consent.guardians import contact_index, details_context
from charter.consent.models import (
    STATUS_AFTER,
    ConsentChainHead,
    ConsentEvent,
    ConsentState,
    ConsentStatus,
    EventAction,
    GuardianRecord,
)
from charter.consent.receipts import receipt
from charter.consent.schemas import Channel, CollectionMethod, ConsentIn, EvidenceIn, GuardianIn
from charter.consent.terms import PolicyTerms, asked_kind, offers_consent, strength
from charter.core.crypto import Keyring
from charter.core.db import utcnow
from charter.core.errors import CharterError, NotFound
from charter.core.i18n import Lang
from charter.core.locks import lock_controller
from charter.core.models import Controller
from charter.policy.schema import ConsentKind, PolicyVersion, Purpose
from charter.subjects.services import REENCRYPTORS, SubjectDirectory

__all__ = ["ConsentLedger", "Recorded"]

_EVENT_COLUMNS = [c.name for c in ConsentEvent.__table__.columns if c.name != "id"]


@dataclass(frozen=True)
class Recorded:
    record_id: str
    seq: int
    subject_id: str
    purpose: str
    action: str
    status: str
    at: dt.datetime
    hash: str


@dataclass
class _Planned:
    """An event checked and ready to be chained: every column but seq, prev_hash and hash."""

    row: dict[str, Any]
    evidence: dict[str, str]
    guardian: GuardianIn | None = None
    rules_hash: str = ""


def _evidence_context(controller_id: str) -> str:
    return f"consent_events.evidence:{controller_id}"


_guardian_context = details_context


def _utc(at: dt.datetime) -> dt.datetime:
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


class ConsentLedger:
    def __init__(self, session: Session, keyring: Keyring) -> None:
        self.session = session
        self.keyring = keyring
        self.audit = AuditLog(session)
        self.subjects = SubjectDirectory(session, keyring)

    # --- writing ---------------------------------------------------------------------------------------------

    def record(self, controller_id: str, item: ConsentIn, terms: PolicyTerms, *, actor: str) -> Recorded:
        """Append one event; every mistake is raised before anything is written."""
        return self.record_many(controller_id, [item], terms, actor=actor)[0]

    def record_many(self, controller_id: str, items: Sequence[ConsentIn], terms: PolicyTerms, *, actor: str,
                    is_batch: bool = False) -> list[Recorded]:
        """Append many events in one transaction; with `is_batch`, errors name the item (`[3].purpose`)."""
        if any(i.action in ("grant", "guardian_grant") for i in items):
            ensure_collecting(self.session, controller_id)  # a refusal or withdrawal is still taken (LUB-SHUTDOWN)
        known = self.subjects.existing(controller_id, [i.subject_id for i in items])
        now = utcnow()
        offered: dict[str, Purpose] = {}
        ids = _uuid4s(len(items))
        plans = [self._plan(f"[{n}]." if is_batch else "", item, terms, known, offered, now=now, actor=actor,
                            record_id=ids[n])
                 for n, item in enumerate(items)]
        return self._append(controller_id, plans, now, actor)

    def _plan(self, at: str, item: ConsentIn, terms: PolicyTerms, known: set[str], offered: dict[str, Purpose],
              *, now: dt.datetime, actor: str, record_id: str) -> _Planned:
        if item.subject_id not in known:
            raise NotFound("no such subject", field=f"{at}subject_id",
                           fix="Register the person first (POST /v1/subjects) and use the id it returns.")
        purpose = offered.get(item.purpose) or self._offered(at, item.purpose, terms, offered)
        version = terms.current if item.policy_version is None else terms.version(
            item.policy_version, field_name=f"{at}policy_version")
        kind = self._kind(at, item, purpose.consent, asked_kind(purpose))
        guardian, rules_hash = self._guardian(at, item, terms)
        jurisdiction = item.jurisdiction or terms.jurisdiction_codes[0]
        if jurisdiction not in terms.jurisdiction_codes:
            raise CharterError(f"the policy does not apply in {jurisdiction!r}", field=f"{at}jurisdiction",
                               fix=f"Use one of: {', '.join(terms.jurisdiction_codes)}.")
        valid_until = _utc(item.valid_until) if item.valid_until is not None else None
        if valid_until is not None and valid_until <= now:
            raise CharterError("the consent would end before it starts", field=f"{at}valid_until",
                               fix="Give a time in the future, or leave it out for consent until withdrawn.")
        language = item.language or terms.default_language
        row = {
            "record_id": record_id, "subject_id": item.subject_id, "action": item.action,
            "purpose": purpose.id, "consent_kind": kind.value, "policy_version": version.version,
            "policy_hash": version.content_hash, "notice": item.notice, "language": language,
            "method": item.method.value, "channel": item.channel.value, "jurisdiction": jurisdiction,
            "at": now, "valid_until": valid_until, "gpc": item.evidence.gpc,
            "request_id": item.evidence.request_id, "guardian_record_id": None, "linked_from": None, "actor": actor,
        }
        return _Planned(row, _evidence_of(item.evidence), guardian, rules_hash)

    @staticmethod
    def _offered(at: str, purpose_id: str, terms: PolicyTerms, offered: dict[str, Purpose]) -> Purpose:
        purpose = terms.purpose(purpose_id, field_name=f"{at}purpose")
        if not offers_consent(purpose):
            raise CharterError(
                f"the policy asks no consent for purpose {purpose.id!r}: it rests on {purpose.legal_basis.value}",
                field=f"{at}purpose", fix="Record consent only for purposes the policy offers a choice for.")
        offered[purpose_id] = purpose
        return purpose

    @staticmethod
    def _kind(at: str, item: ConsentIn, purpose_kind: ConsentKind, asked: ConsentKind) -> ConsentKind:
        if item.action == "guardian_grant":
            return ConsentKind.GUARDIAN
        if purpose_kind is ConsentKind.GUARDIAN and item.action == "grant":
            raise CharterError("this purpose needs a guardian's consent", field=f"{at}action",
                               fix="Send action `guardian_grant` with the `guardian` record.")
        kind = item.consent_kind or asked
        if strength(kind) < strength(asked):
            raise CharterError(f"the purpose asks for {asked.value} consent, not {kind.value}",
                               field=f"{at}consent_kind",
                               fix=f"Collect {asked.value} consent (PIPL arts. 23, 25, 29, 31, 39) and record that.")
        return kind

    @staticmethod
    def _guardian(at: str, item: ConsentIn, terms: PolicyTerms) -> tuple[GuardianIn | None, str]:
        if item.action != "guardian_grant":
            if item.guardian is not None:
                raise CharterError("a guardian record goes only with action `guardian_grant`", field=f"{at}guardian")
            return None, ""
        if item.guardian is None:
            raise CharterError("a guardian consent needs the guardian record", field=f"{at}guardian",
                               fix="Send guardian: name, relationship, contact, verification_method, verified_at, "
                                   "rules_version (PIPL art. 31; LUB-MINORS).")
        rules = terms.version(item.guardian.rules_version, field_name=f"{at}guardian.rules_version")
        return item.guardian, rules.content_hash

    def _lock_head(self, controller_id: str) -> ConsentChainHead:
        # The controller row first, as AuditLog.record locks it: one lock order, no deadlock.
        if not lock_controller(self.session, controller_id):
            raise NotFound(f"no controller {controller_id!r}")
        head = self.session.execute(select(ConsentChainHead).where(ConsentChainHead.controller_id == controller_id)
                                    .with_for_update()).scalar_one_or_none()
        if head is None:
            head = ConsentChainHead(controller_id=controller_id, seq=0, hash=GENESIS)
            self.session.add(head)
            self.session.flush()
        return head

    def _append(self, controller_id: str, plans: Sequence[_Planned], now: dt.datetime,
                actor: str) -> list[Recorded]:
        if not plans:
            return []
        guardians: list[dict[str, Any]] = []
        rows = self._sealed(controller_id, plans, guardians)  # before any lock: concurrent appends overlap here
        bodies = [fields_body(row) for row in rows]
        connection = self.session.connection()
        fast = is_postgres(connection)
        if fast:
            self.session.flush()  # raw statements follow: nothing of this session may still be pending
            audit_seq, audit_hash, seq, prev = lock_chain(connection, controller_id)
        else:
            head = self._lock_head(controller_id)
            seq, prev = head.seq, head.hash
        first = seq + 1
        for row, body in zip(rows, bodies, strict=True):  # under the lock: only the chain itself
            seq += 1
            row["controller_id"], row["seq"], row["prev_hash"] = controller_id, seq, prev
            row["hash"] = prev = link_hash(controller_id, seq, prev, body)
        copy_rows(connection, GuardianRecord, guardians)
        copy_rows(connection, ConsentEvent, rows)
        actions: dict[str, int] = {}
        for row in rows:
            actions[row["action"]] = actions.get(row["action"], 0) + 1
        target = f"consent_ledger:{controller_id}:{first}-{seq}"
        data = {"events": len(rows), "first_seq": first, "last_seq": seq, "head": prev, "actions": actions}
        if fast:
            finish_batch(connection, controller_id, first, seq, head_hash=prev, audit=next_event(
                controller_id, audit_seq, audit_hash, actor=actor, action="consent.recorded", target=target,
                data=data))
            # The ORM did not see those writes: forget any copy of the two heads this session holds.
            for model in (Controller, ConsentChainHead):
                held = self.session.identity_map.get(identity_key(model, controller_id))
                if held is not None:
                    self.session.expire(held)
        else:
            self._project(controller_id, rows)
            head.seq, head.hash = seq, prev
            self.audit.record(controller_id, actor=actor, action="consent.recorded", target=target, data=data)
        self.subjects.mark_changed(controller_id, *sorted({r["subject_id"] for r in rows}), persist=False)
        return [Recorded(r["record_id"], r["seq"], r["subject_id"], r["purpose"], r["action"],
                         _STATUS_OF[r["action"]], now, r["hash"]) for r in rows]

    def _sealed(self, controller_id: str, plans: Sequence[_Planned],
                guardians: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The rows with their salts, commitments and encrypted evidence (and guardian records, if any)."""
        salts = os.urandom(16 * len(plans)).hex()
        rows, clear, encrypted_at = [], [], []
        for n, plan in enumerate(plans):
            row = plan.row
            row["salt"] = salt = salts[32 * n:32 * n + 32]
            row["subject_commitment"] = commitment(salt, "subject", row["subject_id"])
            # Keys in a fixed order (ip, user_agent) by construction, so the text committed to is canonical.
            evidence = _compact_json(plan.evidence)
            row["evidence_commitment"] = commitment(salt, "evidence", evidence)
            row["evidence_encrypted"] = None
            if plan.evidence:
                clear.append(evidence)
                encrypted_at.append(n)
            row["erased_at"] = None
            row["guardian_commitment"] = None
            if plan.guardian is not None:
                row["guardian_record_id"], row["guardian_commitment"] = self._guardian_row(
                    controller_id, row["subject_id"], salt, plan, guardians)
            rows.append(row)
        for n, token in zip(encrypted_at, self.keyring.encrypt_many(clear, _evidence_context(controller_id)),
                            strict=True):
            rows[n]["evidence_encrypted"] = token
        return rows

    def _guardian_row(self, controller_id: str, subject_id: str, salt: str, plan: _Planned,
                      guardians: list[dict[str, Any]]) -> tuple[str, str]:
        guardian, rules_hash = plan.guardian, plan.rules_hash
        assert guardian is not None  # noqa: S101 - called only for a plan with a guardian
        details = json.dumps({"name": guardian.name, "contact": guardian.contact}, ensure_ascii=False,
                             sort_keys=True)
        verified_at = _utc(guardian.verified_at)
        whole = json.dumps([details, guardian.relationship.value, guardian.verification_method.value,
                            verified_at.isoformat(), guardian.rules_version, rules_hash], ensure_ascii=False)
        record_id, digest = str(uuid.uuid4()), commitment(salt, "guardian", whole)
        guardians.append({
            "id": record_id, "controller_id": controller_id, "subject_id": subject_id,
            "details_encrypted": self.keyring.encrypt(details, _guardian_context(controller_id)),
            "relationship": guardian.relationship.value, "verification_method": guardian.verification_method.value,
            "verified_at": verified_at, "rules_version": guardian.rules_version, "rules_hash": rules_hash,
            "commitment": digest, "created_at": utcnow(), "erased_at": None,
            "contact_index": contact_index(self.keyring, controller_id, guardian.contact)})
        return record_id, digest

    def _project(self, controller_id: str, rows: Sequence[Mapping[str, Any]]) -> None:
        latest: dict[tuple[str, str], Mapping[str, Any]] = {}
        for row in rows:
            latest[row["subject_id"], row["purpose"]] = row
        states = [_state_row(controller_id, row) for _key, row in sorted(latest.items())]
        keys = ("controller_id", "subject_id", "purpose")
        upsert_rows(self.session.connection(), ConsentState, states, keys)

    def append_system(self, controller_id: str, events: Iterable[tuple[ConsentState, EventAction]],
                      terms: PolicyTerms, *, actor: str) -> list[Recorded]:
        """Events Charter writes itself (expiry, supersession) for the given current states."""
        now = utcnow()
        plans = [_Planned({
            "record_id": str(uuid.uuid4()), "subject_id": state.subject_id, "action": action.value,
            "purpose": state.purpose, "consent_kind": state.consent_kind,
            "policy_version": terms.current.version, "policy_hash": terms.current.content_hash,
            "notice": f"policy:{terms.current.version}", "language": Lang.parse(terms.in_force.languages[0]).value,
            "method": CollectionMethod.SYSTEM.value, "channel": Channel.API.value,
            "jurisdiction": terms.in_force.jurisdictions[0].value, "at": now, "valid_until": None, "gpc": state.gpc,
            "request_id": None, "guardian_record_id": None, "linked_from": None, "actor": actor}, {})
            for state, action in events]
        return self._append(controller_id, plans, now, actor)

    # --- reading ---------------------------------------------------------------------------------------------

    def states(self, controller_id: str, subject_id: str) -> list[ConsentState]:
        return list(self.session.execute(
            select(ConsentState).where(ConsentState.controller_id == controller_id,
                                       ConsentState.subject_id == subject_id).order_by(ConsentState.purpose)
        ).scalars())

    def history(self, controller_id: str, subject_id: str) -> list[ConsentEvent]:
        return list(self.session.execute(
            select(ConsentEvent).where(ConsentEvent.controller_id == controller_id,
                                       ConsentEvent.subject_id == subject_id).order_by(ConsentEvent.seq)
        ).scalars())

    def event(self, controller_id: str, record_id: str) -> ConsentEvent:
        found = self.session.execute(
            select(ConsentEvent).where(ConsentEvent.controller_id == controller_id,
                                       ConsentEvent.record_id == record_id)
        ).scalar_one_or_none()
        if found is None:
            raise NotFound("no such consent record", field="record_id")
        return found

    def receipt(self, controller_id: str, record_id: str,
                policy_of: Callable[[str], PolicyVersion | None]) -> dict[str, Any]:
        """The 27560 receipt of one event; `policy_of(content_hash)` gives the version it was given under."""
        event = self.event(controller_id, record_id)
        controller = self.session.get(Controller, controller_id)
        return receipt(_columns(event), policy_of(event.policy_hash), controller.name if controller else "")

    def evidence(self, controller_id: str, record_id: str) -> dict[str, str]:
        """The IP and user agent kept as evidence (decrypted): for staff handling a dispute, never logged."""
        event = self.event(controller_id, record_id)
        if event.evidence_encrypted is None:
            return {}
        data: dict[str, str] = json.loads(self.keyring.decrypt(event.evidence_encrypted,
                                                              _evidence_context(controller_id)))
        return data

    def head_seq(self, controller_id: str) -> int:
        head = self.session.get(ConsentChainHead, controller_id)
        return head.seq if head else 0

    def changed_since(self, controller_id: str, after_seq: int) -> tuple[int, set[str]]:
        """Subjects with events after `after_seq`, and the last seq seen. Appends hold the controller lock, so
        seqs commit in order: following `seq > last seen` misses nothing."""
        rows = self.session.execute(
            select(ConsentEvent.seq, ConsentEvent.subject_id)
            .where(ConsentEvent.controller_id == controller_id, ConsentEvent.seq > after_seq)
            .order_by(ConsentEvent.seq)
        ).all()
        return (rows[-1][0] if rows else after_seq), {r[1] for r in rows if r[1] is not None}

    def verify(self, controller_id: str) -> Verification:
        head = self.session.get(ConsentChainHead, controller_id)
        rows = self.session.execute(
            select(ConsentEvent).where(ConsentEvent.controller_id == controller_id).order_by(ConsentEvent.seq)
        ).scalars()
        links = (LedgerLink(r.controller_id, r.seq, r.prev_hash, r.hash, _columns(r)) for r in rows)
        return verify_chain(links, head.seq if head else 0, head.hash if head else GENESIS)

    def replayed(self, controller_id: str) -> dict[tuple[str, str], ProjectedState]:
        rows = self.session.execute(
            select(ConsentEvent).where(ConsentEvent.controller_id == controller_id).order_by(ConsentEvent.seq)
        ).scalars()
        return replay(_columns(r) for r in rows)

    def projected(self, controller_id: str) -> dict[tuple[str, str], ProjectedState]:
        rows = self.session.execute(select(ConsentState).where(ConsentState.controller_id == controller_id))
        return {(s.subject_id, s.purpose): _projected(s) for s in rows.scalars()}

    # --- sweeps, erasure, linking ----------------------------------------------------------------------------

    def expire_due(self, controller_id: str, terms: PolicyTerms, *, now: dt.datetime | None = None,
                   actor: str) -> list[Recorded]:
        """Append `expire` for every granted consent whose validity has ended."""
        moment = now or utcnow()
        due = self.session.execute(
            select(ConsentState).where(ConsentState.controller_id == controller_id,
                                       ConsentState.status == ConsentStatus.GRANTED.value,
                                       ConsentState.valid_until.is_not(None),
                                       ConsentState.valid_until <= moment)
        ).scalars().all()
        return self.append_system(controller_id, ((s, EventAction.EXPIRE) for s in due), terms, actor=actor)

    def supersede_outdated(self, controller_id: str, terms: PolicyTerms, *, actor: str) -> list[Recorded]:
        """Append `supersede` for every granted consent given under a version older than the one that asked
        for fresh consent for its purpose. Decisions already deny these; the events put it on the record."""
        granted = self.session.execute(
            select(ConsentState).where(ConsentState.controller_id == controller_id,
                                       ConsentState.status == ConsentStatus.GRANTED.value,
                                       ConsentState.purpose.in_(list(terms.required_ordinal)))
        ).scalars().all()
        outdated = [s for s in granted if terms.needs_reconsent(s.purpose, s.policy_hash)]
        return self.append_system(controller_id, ((s, EventAction.SUPERSEDE) for s in outdated), terms,
                                  actor=actor)

    def erase_subject(self, controller_id: str, subject_id: str, *, actor: str) -> int:
        """Turn the subject's events into anonymised tombstones: the clear subject id, the salt, the evidence and
        the guardian's details go; the commitments, purposes, versions and times (and the chain) stay."""
        events = self.history(controller_id, subject_id)
        now = utcnow()
        for event in events:
            event.subject_id, event.salt, event.evidence_encrypted, event.erased_at = None, None, None, now
        guardians = self.session.execute(
            select(GuardianRecord).where(GuardianRecord.controller_id == controller_id,
                                         GuardianRecord.subject_id == subject_id)).scalars()
        for guardian in guardians:
            guardian.subject_id, guardian.details_encrypted, guardian.erased_at = None, None, now
            guardian.contact_index = None
        self.session.execute(delete(ConsentState).where(ConsentState.controller_id == controller_id,
                                                        ConsentState.subject_id == subject_id))
        self.audit.record(controller_id, actor=actor, action="consent.subject_erased",
                          target=f"subject:{subject_id}", data={"events": len(events)})
        self.subjects.mark_changed(controller_id, subject_id)
        return len(events)

    def current(self, controller_id: str, subject_id: str) -> dict[str, CurrentConsent]:
        return {s.purpose: CurrentConsent(s.status, s.policy_hash) for s in self.states(controller_id, subject_id)}

    def visitor(self, controller_id: str, visitor_id: str) -> str | None:
        """The subject a banner visitor id belongs to (the account, once linked); None before any choice."""
        found = self.subjects.find(controller_id, "visitor_id", visitor_id)
        return found.id if found is not None else None

    def record_choices(self, controller_id: str, visitor_id: str, choices: Mapping[str, bool], terms: PolicyTerms,
                       *, language: str, evidence: EvidenceIn, actor: str) -> tuple[str, list[Recorded]]:
        """A banner choice, recorded against the visitor (created on first choice): only what changed."""
        choosable = {c for c, purposes in categories(terms).items() if purposes}
        for category in choices:
            if category not in choosable:
                raise CharterError(f"the banner offers no choice for {category!r}", field=f"choices.{category}",
                                   fix=f"Use one of: {', '.join(sorted(choosable))}.")
        subject = self.subjects.resolve(controller_id, "visitor_id", visitor_id, actor=actor)
        events = choice_events(terms, self.current(controller_id, subject.id), choices, gpc=evidence.gpc)
        now = utcnow()
        purposes = terms.purposes
        plans = [_Planned({
            "record_id": str(uuid.uuid4()), "subject_id": subject.id, "action": action.value, "purpose": purpose_id,
            "consent_kind": asked_kind(purposes[purpose_id]).value, "policy_version": terms.current.version,
            "policy_hash": terms.current.content_hash, "notice": "banner", "language": language,
            "method": (CollectionMethod.GPC if forced else CollectionMethod.BUTTON).value,
            "channel": Channel.BANNER.value, "jurisdiction": terms.in_force.jurisdictions[0].value, "at": now,
            "valid_until": None, "gpc": evidence.gpc, "request_id": evidence.request_id,
            "guardian_record_id": None, "linked_from": None, "actor": actor}, _evidence_of(evidence))
            for purpose_id, action, forced in events]
        return subject.id, self._append(controller_id, plans, now, actor)

    def has_guardian(self, controller_id: str, subject_id: str) -> bool:
        return self.session.execute(
            select(GuardianRecord.id).where(GuardianRecord.controller_id == controller_id,
                                            GuardianRecord.subject_id == subject_id).limit(1)
        ).first() is not None

    def link_visitor(self, controller_id: str, visitor_id: str, subject_id: str, terms: PolicyTerms, *,
                     actor: str) -> list[Recorded]:
        """At login: the banner's anonymous visitor becomes the account. The visitor id moves to the subject,
        and each banner choice newer than the account's own is carried over as a new event (`linked_from`)."""
        visitor = self.subjects.move_identity(controller_id, "visitor_id", visitor_id, subject_id, actor=actor)
        if visitor == subject_id:
            return []
        own = {s.purpose: s.seq for s in self.states(controller_id, subject_id)}
        carried = [s for s in self.states(controller_id, visitor)
                   if s.status in _CARRIED and s.seq > own.get(s.purpose, 0) and s.purpose in terms.purposes]
        now = utcnow()
        plans = [_Planned({
            "record_id": str(uuid.uuid4()), "subject_id": subject_id, "action": _CARRIED[s.status].value,
            "purpose": s.purpose, "consent_kind": s.consent_kind, "policy_version": s.policy_version,
            "policy_hash": s.policy_hash, "notice": "banner", "language": Lang.parse(terms.in_force.languages[0]).value,
            "method": CollectionMethod.LINK.value, "channel": Channel.BANNER.value,
            "jurisdiction": terms.in_force.jurisdictions[0].value, "at": now, "valid_until": s.valid_until,
            "gpc": s.gpc, "request_id": None, "guardian_record_id": None, "linked_from": s.record_id,
            "actor": actor}, {}) for s in carried]
        return self._append(controller_id, plans, now, actor)


_STATUS_OF = {action.value: status.value for action, status in STATUS_AFTER.items()}
_CARRIED = {ConsentStatus.GRANTED.value: EventAction.GRANT, ConsentStatus.REFUSED.value: EventAction.REFUSE,
            ConsentStatus.WITHDRAWN.value: EventAction.WITHDRAW}


_compact_json = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
"""`json.dumps(value, separators=(",", ":"), ensure_ascii=False)` without building an encoder per call."""


def _uuid4s(count: int) -> list[str]:
    """`count` random (version 4) UUIDs as text, from one read of the random source."""
    raw = os.urandom(16 * count).hex()
    out = []
    for n in range(0, 32 * count, 32):
        h = raw[n:n + 32]
        out.append(f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}")
    return out


def _evidence_of(evidence: EvidenceIn) -> dict[str, str]:
    out: dict[str, str] = {}
    if evidence.ip is not None:
        out["ip"] = str(evidence.ip)
    if evidence.user_agent:
        out["user_agent"] = evidence.user_agent
    return out


def _state_row(controller_id: str, row: Mapping[str, Any]) -> dict[str, Any]:
    action = EventAction(row["action"])
    return {"controller_id": controller_id, "subject_id": row["subject_id"], "purpose": row["purpose"],
            "status": STATUS_AFTER[action].value, "consent_kind": row["consent_kind"],
            "policy_version": row["policy_version"], "policy_hash": row["policy_hash"],
            "record_id": row["record_id"], "seq": row["seq"], "at": row["at"], "valid_until": row["valid_until"],
            "by_guardian": action is EventAction.GUARDIAN_GRANT, "gpc": row["gpc"]}


def _columns(event: ConsentEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in _EVENT_COLUMNS}


def _projected(state: ConsentState) -> ProjectedState:
    return ProjectedState(status=state.status, consent_kind=state.consent_kind,
                          policy_version=state.policy_version, policy_hash=state.policy_hash,
                          record_id=state.record_id, seq=state.seq,
                          valid_until=iso(state.valid_until), by_guardian=state.by_guardian, gpc=state.gpc)


def reencrypt_ledger(session: Session, old: Keyring, new: Keyring) -> int:
    """Evidence and guardian details under the new active key. The hash chain covers commitments of the plain
    values, so re-encrypting changes no hash."""
    done = 0
    for event in session.execute(select(ConsentEvent).where(ConsentEvent.evidence_encrypted.is_not(None))).scalars():
        token = event.evidence_encrypted
        if token is not None and new.key_id_of(token) != new.active:
            ctx = _evidence_context(event.controller_id)
            event.evidence_encrypted = new.encrypt(old.decrypt(token, ctx), ctx)
            done += 1
    guardians = select(GuardianRecord).where(GuardianRecord.details_encrypted.is_not(None))
    for record in session.execute(guardians).scalars():
        token = record.details_encrypted
        if token is not None and new.key_id_of(token) != new.active:
            ctx = _guardian_context(record.controller_id)
            record.details_encrypted = new.encrypt(old.decrypt(token, ctx), ctx)
            done += 1
    session.flush()
    return done


REENCRYPTORS.append(reencrypt_ledger)
