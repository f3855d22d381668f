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
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import instance_dict, set_committed_value
from sqlalchemy.orm.util import identity_key

from charter.accounts.services import collection_stopped, ensure_collecting
from charter.audit.chain import Verification
from charter.audit.services import AuditLog, next_event
from charter.consent.banner import CurrentConsent, categories, choice_events
from charter.consent.bulk import copy_rows, finish_batch, is_postgres, lock_chain, unwritable, upsert_rows
from charter.consent.chain import (
    GENESIS,
    KIND_FIELDS,
    LedgerLink,
    ProjectedState,
    body_of,
    commitment,
    iso,
    kind_body,
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
from charter.consent.schemas import AcceptanceIn, Channel, CollectionMethod, ConsentIn, EvidenceIn, GuardianIn
from charter.consent.terms import PolicyTerms, asked_kind, offers_consent, strength
from charter.core.crypto import Keyring
from charter.core.db import utcnow
from charter.core.errors import CharterError, NotFound
from charter.core.i18n import Lang
from charter.core.locks import lock_controller
from charter.core.models import Controller
from charter.policy.schema import WHOLE_POLICY, ConsentKind, PolicyVersion, Purpose
from charter.subjects.services import REENCRYPTORS, SubjectDirectory

__all__ = ["ConsentLedger", "Recorded"]

_EVENT_COLUMNS = [c.name for c in ConsentEvent.__table__.columns if c.name != "id"]
_ROW_COLUMNS = ("record_id", "controller_id", "seq", "subject_id", "salt", "subject_commitment", *KIND_FIELDS,
                "valid_until", "gpc", "request_id", "evidence_encrypted", "evidence_commitment", "guardian_record_id",
                "guardian_commitment", "linked_from", "actor", "erased_at", "prev_hash", "hash")
"""The columns of a ledger row as `_append` builds it (every column of `consent_events` but the serial id)."""


class Recorded(NamedTuple):
    record_id: str
    seq: int
    subject_id: str
    purpose: str
    action: str
    status: str
    at: dt.datetime
    hash: str


class _Kind(NamedTuple):
    """What the events of one kind in one append share: the values of `KIND_FIELDS` (action … at), checked and
    joined into their part of the hashed body once."""

    values: tuple[Any, ...]
    body: str
    purpose: str
    action: str
    status: str


class _Planned(NamedTuple):
    """An event checked and ready to be sealed and chained."""

    record_id: str
    subject_id: str
    kind: _Kind
    valid_until: dt.datetime | None
    gpc: bool
    request_id: str | None
    evidence: str
    """The evidence as compact JSON (`_evidence_json`); `{}` when there is none."""
    guardian: GuardianIn | None = None
    rules_hash: str = ""
    linked_from: str | None = None


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
        """Append many events in one transaction; with `is_batch`, errors name the item (`[3].purpose`).

        What events of one kind share (purpose, action, kind, policy version, notice, language, method, channel,
        jurisdiction) is checked and prepared once per kind, so an event costs only its own fields."""
        known = self._writable(controller_id, items)
        now = utcnow()
        ids = _uuid4s(len(items))
        kinds: dict[tuple[Any, ...], _Kind] = {}
        plans: list[_Planned] = []
        for n, item in enumerate(items):
            if item.subject_id not in known:
                raise NotFound("no such subject", field=f"{_at(n, is_batch)}subject_id",
                               fix="Register the person first (POST /v1/subjects) and use the id it returns.")
            key = (item.purpose, item.action, item.consent_kind, item.policy_version, item.notice, item.language,
                   item.method, item.channel, item.jurisdiction)
            guardian, rules_hash = None, ""
            kind = kinds.get(key)
            if kind is None:
                kind, guardian, rules_hash = self._new_kind(_at(n, is_batch), item, terms, now)
                kinds[key] = kind
            elif item.guardian is not None or item.action == "guardian_grant":
                guardian, rules_hash = self._guardian(_at(n, is_batch), item, terms)
            valid_until = item.valid_until
            if valid_until is not None:
                valid_until = _utc(valid_until)
                if valid_until <= now:
                    raise CharterError("the consent would end before it starts",
                                       field=f"{_at(n, is_batch)}valid_until",
                                       fix="Give a time in the future, or leave it out for consent until withdrawn.")
            evidence = item.evidence
            plans.append(_Planned(ids[n], item.subject_id, kind, valid_until, evidence.gpc, evidence.request_id,
                                  _evidence_json(evidence), guardian, rules_hash))
        return self._append(controller_id, plans, now, actor)

    def accept(self, controller_id: str, subject_id: str, item: AcceptanceIn, terms: PolicyTerms, *, actor: str,
               field_prefix: str = "") -> Recorded:
        """Record that the person accepted the policy as a whole, in the version shown (LUB-ACCEPT): an `accept`
        event under the purpose `WHOLE_POLICY`, appended, chained and receipted like every consent event, in the
        person's history and export. It consents to nothing (consent kind `none`); after a change needing fresh
        consent, `needs_reconsent` on its state tells the host to ask again. Mistakes name their field (after
        `field_prefix`) and write nothing."""
        ensure_collecting(self.session, controller_id)
        if subject_id not in self.subjects.existing(controller_id, [subject_id]):
            raise NotFound("no such subject", field="subject_id",
                           fix="Register the person first (POST /v1/subjects) and use the id it returns.")
        at = field_prefix
        version = terms.current if item.policy_version is None else terms.version(
            item.policy_version, field_name=f"{at}policy_version")
        jurisdiction = item.jurisdiction or terms.jurisdiction_codes[0]
        if jurisdiction not in terms.jurisdiction_codes:
            raise CharterError(f"the policy does not apply in {jurisdiction!r}", field=f"{at}jurisdiction",
                               fix=f"Use one of: {', '.join(terms.jurisdiction_codes)}.")
        now = utcnow()
        kind = _kind_of(EventAction.ACCEPT.value, WHOLE_POLICY, ConsentKind.NONE.value,
                        policy_version=version.version, policy_hash=version.content_hash, notice=item.notice,
                        language=item.language or terms.default_language, method=item.method.value,
                        channel=item.channel.value, jurisdiction=jurisdiction, at=now)
        evidence = item.evidence
        plan = _Planned(str(uuid.uuid4()), subject_id, kind, None, evidence.gpc, evidence.request_id,
                        _evidence_json(evidence))
        return self._append(controller_id, [plan], now, actor)[0]

    def _writable(self, controller_id: str, items: Sequence[ConsentIn]) -> set[str]:
        """The items' subject ids that are the controller's subjects; refuses a grant once the controller has stopped
        collecting (a refusal or withdrawal is still taken: LUB-SHUTDOWN)."""
        granting = any(i.action in _GRANTING for i in items)
        ids = [i.subject_id for i in items]
        connection = self.session.connection()
        if is_postgres(connection):  # one round trip for both
            stopped, missing = unwritable(connection, controller_id, ids)
            if granting and stopped:
                raise collection_stopped(controller_id)
            return set(ids) - missing
        if granting:
            ensure_collecting(self.session, controller_id)
        return self.subjects.existing(controller_id, ids)

    def _new_kind(self, at: str, item: ConsentIn, terms: PolicyTerms,
                  now: dt.datetime) -> tuple[_Kind, GuardianIn | None, str]:
        """The checks of an item whose kind the batch has not seen yet, in the order its fields are reported."""
        purpose = self._offered(at, item.purpose, terms)
        version = terms.current if item.policy_version is None else terms.version(
            item.policy_version, field_name=f"{at}policy_version")
        kind = self._kind(at, item, purpose.consent, asked_kind(purpose))
        guardian, rules_hash = self._guardian(at, item, terms)
        jurisdiction = item.jurisdiction or terms.jurisdiction_codes[0]
        if jurisdiction not in terms.jurisdiction_codes:
            raise CharterError(f"the policy does not apply in {jurisdiction!r}", field=f"{at}jurisdiction",
                               fix=f"Use one of: {', '.join(terms.jurisdiction_codes)}.")
        return _kind_of(item.action, purpose.id, kind.value, policy_version=version.version,
                        policy_hash=version.content_hash, notice=item.notice,
                        language=item.language or terms.default_language, method=item.method.value,
                        channel=item.channel.value, jurisdiction=jurisdiction, at=now), guardian, rules_hash

    @staticmethod
    def _offered(at: str, purpose_id: str, terms: PolicyTerms) -> Purpose:
        purpose = terms.purpose(purpose_id, field_name=f"{at}purpose")
        if not offers_consent(purpose):
            raise CharterError(
                f"the policy asks no consent for purpose {purpose.id!r}: it rests on {purpose.legal_basis.value}",
                field=f"{at}purpose", fix="Record consent only for purposes the policy offers a choice for.")
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
        sealed = self._sealed(controller_id, plans, actor, guardians)  # before any lock: concurrent appends overlap
        connection = self.session.connection()
        fast = is_postgres(connection)
        if fast:
            self.session.flush()  # raw statements follow: nothing of this session may still be pending
            audit_seq, audit_hash, seq, prev = lock_chain(connection, controller_id)
        else:
            head = self._lock_head(controller_id)
            seq, prev = head.seq, head.hash
        first = seq + 1
        rows: list[tuple[Any, ...]] = []
        done: list[Recorded] = []
        latest: dict[tuple[str, str], int] = {}
        actions: dict[str, int] = {}
        for plan, (salt, subject_c, evidence_e, evidence_c, guardian_id, guardian_c, body) in zip(
                plans, sealed, strict=True):  # under the lock: only the chain itself
            seq += 1
            hash_ = link_hash(controller_id, seq, prev, body)
            kind = plan.kind
            rows.append((plan.record_id, controller_id, seq, plan.subject_id, salt, subject_c, *kind.values,
                         plan.valid_until, plan.gpc, plan.request_id, evidence_e, evidence_c, guardian_id,
                         guardian_c, plan.linked_from, actor, None, prev, hash_))
            done.append(Recorded(plan.record_id, seq, plan.subject_id, kind.purpose, kind.action, kind.status, now,
                                 hash_))
            latest[plan.subject_id, kind.purpose] = seq
            actions[kind.action] = actions.get(kind.action, 0) + 1
            prev = hash_
        if guardians:
            copy_rows(connection, GuardianRecord, list(guardians[0]), [tuple(g.values()) for g in guardians])
        copy_rows(connection, ConsentEvent, _ROW_COLUMNS, rows)
        target = f"consent_ledger:{controller_id}:{first}-{seq}"
        data = {"events": len(rows), "first_seq": first, "last_seq": seq, "head": prev, "actions": actions}
        if fast:
            superseded = sorted(set(range(first, seq + 1)).difference(latest.values())) if len(latest) < len(
                rows) else []
            finish_batch(connection, controller_id, first, seq, superseded, head_hash=prev, audit=next_event(
                controller_id, audit_seq, audit_hash, actor=actor, action="consent.recorded", target=target,
                data=data))
            # The ORM did not see those writes: forget any copy of the two heads this session holds.
            for model in (Controller, ConsentChainHead):
                held = self.session.identity_map.get(identity_key(model, controller_id))
                if held is not None:
                    self.session.expire(held)
        else:
            by_seq = {row[2]: row for row in rows}
            self._project(controller_id, [dict(zip(_ROW_COLUMNS, by_seq[s], strict=True)) for s in latest.values()])
            head.seq, head.hash = seq, prev
            self.audit.record(controller_id, actor=actor, action="consent.recorded", target=target, data=data)
        self.subjects.mark_changed(controller_id, *sorted({subject for subject, _purpose in latest}), persist=False)
        return done

    def _sealed(self, controller_id: str, plans: Sequence[_Planned], actor: str,
                guardians: list[dict[str, Any]]) -> list[list[Any]]:
        """Per plan: its salt, subject commitment, encrypted evidence, evidence commitment, guardian record id and
        commitment (appending the guardian records to `guardians`), and the bytes its hash covers (`fields_body`)."""
        salts = os.urandom(16 * len(plans)).hex()
        out: list[list[Any]] = []
        clear: list[str] = []
        encrypted_at: list[int] = []
        for n, plan in enumerate(plans):
            salt = salts[32 * n:32 * n + 32]
            subject_c = commitment(salt, "subject", plan.subject_id)
            evidence = plan.evidence
            evidence_c = commitment(salt, "evidence", evidence)
            if evidence != "{}":
                clear.append(evidence)
                encrypted_at.append(n)
            guardian_id = guardian_c = None
            if plan.guardian is not None:
                guardian_id, guardian_c = self._guardian_row(controller_id, plan.subject_id, salt, plan, guardians)
            out.append([salt, subject_c, None, evidence_c, guardian_id, guardian_c, body_of(
                plan.record_id, subject_c, plan.kind.body, valid_until=plan.valid_until, gpc=plan.gpc,
                request_id=plan.request_id, evidence_commitment=evidence_c, guardian_commitment=guardian_c,
                linked_from=plan.linked_from, actor=actor)])
        for n, token in zip(encrypted_at, self.keyring.encrypt_many(clear, _evidence_context(controller_id)),
                            strict=True):
            out[n][2] = token
        return out

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
        """Upsert the state each row (the last event of its subject and purpose in the batch) leaves."""
        states = sorted((_state_row(controller_id, row) for row in rows), key=lambda s: (s["subject_id"], s["purpose"]))
        keys = ("controller_id", "subject_id", "purpose")
        upsert_rows(self.session.connection(), ConsentState, states, keys)

    def append_system(self, controller_id: str, events: Iterable[tuple[ConsentState, EventAction]],
                      terms: PolicyTerms, *, actor: str) -> list[Recorded]:
        """Events Charter writes itself (expiry, supersession) for the given current states."""
        now = utcnow()
        language = Lang.parse(terms.in_force.languages[0]).value
        jurisdiction = terms.in_force.jurisdictions[0].value
        plans = [_Planned(str(uuid.uuid4()), state.subject_id, _kind_of(
            action.value, state.purpose, state.consent_kind, policy_version=terms.current.version,
            policy_hash=terms.current.content_hash, notice=f"policy:{terms.current.version}", language=language,
            method=CollectionMethod.SYSTEM.value, channel=Channel.API.value, jurisdiction=jurisdiction, at=now),
            None, state.gpc, None, "{}") for state, action in events]
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
        the guardian's details go; the commitments, purposes, versions and times (and the chain) stay.

        Core statements on the tables, no rows loaded: the tombstones are written in one UPDATE, which (where
        the database returns rows from an UPDATE) also says whether any event had a guardian; a guardian record
        is written only with its event (`_append`), so without one there are no guardian records to erase."""
        self.session.flush()  # Core statements follow: nothing of this session may still be pending
        connection, now = self.session.connection(), utcnow()
        values = {"cid": controller_id, "sid": subject_id, "now": now}
        if connection.dialect.update_returning:
            guardian_ids = connection.execute(_TOMBSTONE_RETURNING, values).scalars().all()
            events, has_guardian = len(guardian_ids), any(g is not None for g in guardian_ids)
        else:
            events, has_guardian = connection.execute(_TOMBSTONE, values).rowcount, True
        if has_guardian:
            connection.execute(_ERASE_GUARDIANS, values)
        connection.execute(_FORGET_STATES, values)
        _erased_in_session(self.session, controller_id, subject_id, now)
        self.audit.record(controller_id, actor=actor, action="consent.subject_erased",
                          target=f"subject:{subject_id}", data={"events": events})
        self.subjects.mark_changed(controller_id, subject_id)
        return events

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
        jurisdiction = terms.in_force.jurisdictions[0].value
        evidence_json = _evidence_json(evidence)
        plans = [_Planned(str(uuid.uuid4()), subject.id, _kind_of(
            action.value, purpose_id, asked_kind(purposes[purpose_id]).value, policy_version=terms.current.version,
            policy_hash=terms.current.content_hash, notice="banner", language=language,
            method=(CollectionMethod.GPC if forced else CollectionMethod.BUTTON).value, channel=Channel.BANNER.value,
            jurisdiction=jurisdiction, at=now), None, evidence.gpc, evidence.request_id, evidence_json)
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
        language = Lang.parse(terms.in_force.languages[0]).value
        jurisdiction = terms.in_force.jurisdictions[0].value
        plans = [_Planned(str(uuid.uuid4()), subject_id, _kind_of(
            _CARRIED[s.status].value, s.purpose, s.consent_kind, policy_version=s.policy_version,
            policy_hash=s.policy_hash, notice="banner", language=language, method=CollectionMethod.LINK.value,
            channel=Channel.BANNER.value, jurisdiction=jurisdiction, at=now), s.valid_until, s.gpc, None, "{}",
            linked_from=s.record_id) for s in carried]
        return self._append(controller_id, plans, now, actor)


_STATUS_OF = {action.value: status.value for action, status in STATUS_AFTER.items()}
_CARRIED = {ConsentStatus.GRANTED.value: EventAction.GRANT, ConsentStatus.REFUSED.value: EventAction.REFUSE,
            ConsentStatus.WITHDRAWN.value: EventAction.WITHDRAW}


_GRANTING = frozenset({EventAction.GRANT.value, EventAction.GUARDIAN_GRANT.value})


def _at(n: int, is_batch: bool) -> str:
    """Where an item's field is, in an error: `[3].` in a batch, nothing for a single event."""
    return f"[{n}]." if is_batch else ""


def _kind_of(action: str, purpose: str, consent_kind: str, *, policy_version: str, policy_hash: str, notice: str,
             language: str, method: str, channel: str, jurisdiction: str, at: dt.datetime) -> _Kind:
    values = (action, purpose, consent_kind, policy_version, policy_hash, notice, language, method, channel,
              jurisdiction, at)
    return _Kind(values, kind_body(values), purpose, action, _STATUS_OF[action])


_string = json.encoder.encode_basestring
"""A JSON string literal, non-ASCII kept (as `json.dumps(..., ensure_ascii=False)` writes it)."""


def _evidence_json(evidence: EvidenceIn) -> str:
    """The evidence kept (IP, user agent) as the compact JSON its commitment covers and its encryption holds:
    `json.dumps({"ip": …, "user_agent": …}, separators=(",", ":"), ensure_ascii=False)` with absent values left out
    and the keys in that order; `{}` when there is none."""
    ip, agent = evidence.ip, evidence.user_agent
    if agent:
        if ip is None:
            return f'{{"user_agent":{_string(agent)}}}'
        return f'{{"ip":{_string(ip)},"user_agent":{_string(agent)}}}'
    return "{}" if ip is None else f'{{"ip":{_string(ip)}}}'


def _uuid4s(count: int) -> list[str]:
    """`count` random (version 4) UUIDs as text, from one read of the random source."""
    raw = os.urandom(16 * count).hex()
    out = []
    for n in range(0, 32 * count, 32):
        h = raw[n:n + 32]
        out.append(f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}")
    return out


def _state_row(controller_id: str, row: Mapping[str, Any]) -> dict[str, Any]:
    action = EventAction(row["action"])
    return {"controller_id": controller_id, "subject_id": row["subject_id"], "purpose": row["purpose"],
            "status": STATUS_AFTER[action].value, "consent_kind": row["consent_kind"],
            "policy_version": row["policy_version"], "policy_hash": row["policy_hash"],
            "record_id": row["record_id"], "seq": row["seq"], "at": row["at"], "valid_until": row["valid_until"],
            "by_guardian": action is EventAction.GUARDIAN_GRANT, "gpc": row["gpc"]}


_EVENTS = cast(Table, ConsentEvent.__table__)
_GUARDIANS = cast(Table, GuardianRecord.__table__)
_STATES = cast(Table, ConsentState.__table__)
_TOMBSTONE = update(_EVENTS).where(
    _EVENTS.c.controller_id == bindparam("cid"), _EVENTS.c.subject_id == bindparam("sid"),
).values(subject_id=None, salt=None, evidence_encrypted=None, erased_at=bindparam("now"))
_TOMBSTONE_RETURNING = _TOMBSTONE.returning(_EVENTS.c.guardian_record_id)
_ERASE_GUARDIANS = update(_GUARDIANS).where(
    _GUARDIANS.c.controller_id == bindparam("cid"), _GUARDIANS.c.subject_id == bindparam("sid"),
).values(subject_id=None, details_encrypted=None, erased_at=bindparam("now"), contact_index=None)
_FORGET_STATES = delete(_STATES).where(
    _STATES.c.controller_id == bindparam("cid"), _STATES.c.subject_id == bindparam("sid"))
"""`erase_subject`'s statements, built once (SQLAlchemy then finds their compiled form by a cache key it has
already computed)."""

_ERASED_FIELDS: dict[type[Any], tuple[str, ...]] = {
    ConsentEvent: ("subject_id", "salt", "evidence_encrypted"),
    GuardianRecord: ("subject_id", "details_encrypted", "contact_index")}


def _erased_in_session(session: Session, controller_id: str, subject_id: str, now: dt.datetime) -> None:
    """What the erasure's statements changed, in the objects this session already holds (as the ORM's own
    UPDATE and DELETE keep them): tombstones and erased guardian records read as such, deleted states leave."""
    for obj in list(session.identity_map.values()):
        loaded = instance_dict(obj)
        if loaded.get("subject_id") != subject_id or loaded.get("controller_id") != controller_id:
            continue
        if isinstance(obj, ConsentState):
            session.expunge(obj)
            continue
        erased = _ERASED_FIELDS.get(type(obj))
        if erased is not None:
            for name in erased:
                set_committed_value(obj, name, None)
            set_committed_value(obj, "erased_at", now)


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
