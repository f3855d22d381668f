"""The request lifecycle's SQL: submit, verify (code or host assertion), approve, refuse, plan, and what the
person and staff see. Each change is audited and told to the person through the outbox; services never commit,
and tasks are handed to the queue only after the caller's transaction commits.

```python
service = RequestService(session, keyring, queue=worker)
submitted = service.submit("lubpur", kind="erasure", identity_kind="email", identity_value="wang@example.com",
                           language="zh-CN", actor="api")
# … commit; the person receives a code …
token = service.verify("lubpur", submitted.request.id, "042917")
```
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import secrets
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Concatenate, ParamSpec, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session

from charter.audit.services import AuditLog, batched
from charter.consent.terms import offers_consent
from charter.core.crypto import Keyring
from charter.core.db import utcnow
from charter.core.errors import CharterError, NotFound
from charter.core.i18n import Lang, Text
from charter.datamap.compiled import compiled
from charter.jurisdictions import RequestKind, due_date, refusal_grounds
from charter.outbox.services import Outbox, parse_language
from charter.policy.schema import PolicyVersion
from charter.policy.services import policy_in_force
from charter.requests.interfaces import ClaimingQueue, FirstClaim, NullQueue, Planned, PlannedTask, TaskQueue
from charter.requests.lifecycle import Event, Status, advance, transition
from charter.requests.models import TASKS, DataRequest, HeldItem, RequestSettings, RequestTask
from charter.requests.planning import NEEDS_DATAMAP, Operation, TaskDraft, draft_tasks
from charter.requests.texts import KIND_LABELS
from charter.requests.verification import Challenges, accept_assertion
from charter.retention import LegalHolds, held_for
from charter.subjects.models import Subject
from charter.subjects.normalise import IdentityKind, normalise, parse_kind
from charter.subjects.services import SubjectDirectory

__all__ = ["RequestService", "Submitted", "contact_context", "params_context", "parse_request_kind"]

_ZONES = {"CN": "Asia/Shanghai", "HK": "Asia/Hong_Kong", "EU": "Europe/Brussels"}
_CONTACT_CHANNEL = {IdentityKind.EMAIL: "email", IdentityKind.PHONE: "sms"}


def contact_context(controller_id: str) -> str:
    return f"requests.contact:{controller_id}"


def params_context(controller_id: str) -> str:
    return f"requests.params:{controller_id}"


def note_context(controller_id: str) -> str:
    return f"requests.note:{controller_id}"


_P = ParamSpec("_P")
_R = TypeVar("_R")


_Method = Callable[Concatenate["RequestService", _P], _R]


def _audited_together(method: _Method[_P, _R]) -> _Method[_P, _R]:
    """The method's audit events are written together when it returns (`charter.audit.services.batched`), after
    the first batch it started, if that finished meanwhile, is settled in its transaction (`_settle_started`)."""
    @functools.wraps(method)
    def wrapper(self: RequestService, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        with batched(self.session):
            result = method(self, *args, **kwargs)
            self._settle_started()
            return result
    return wrapper


_CLAIMED = "charter.requests.claimed"
"""session.info: the batches its transaction claimed, to start once it commits or drop if it rolls back."""


def _handed_out(session: Session) -> list[tuple[ClaimingQueue, object]]:
    waiting: list[tuple[ClaimingQueue, object]] = session.info.get(_CLAIMED, [])
    handed, waiting[:] = list(waiting), []
    return handed


def _start_claimed(session: Session) -> None:
    for queue, claimed in _handed_out(session):
        queue.start_claimed(claimed)


def _abandon_claimed(session: Session) -> None:
    for queue, claimed in _handed_out(session):
        queue.abandon_claimed(claimed)


def parse_request_kind(kind: str) -> RequestKind:
    try:
        return RequestKind.parse(kind)
    except ValueError:
        raise CharterError(f"unknown request kind {kind!r}", field="kind",
                           fix=f"Use one of: {', '.join(k.value for k in RequestKind)}.") from None


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def local_date(now: dt.datetime, jurisdictions: Sequence[str]) -> dt.date:
    """The date of receipt where the controller answers (the first regime's time zone)."""
    return now.astimezone(ZoneInfo(_ZONES.get(jurisdictions[0], "UTC"))).date()


_REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _reference() -> str:
    """A short reference people can read out: eight characters of 32, uniform (256 is a multiple of 32)."""
    return "R-" + "".join(_REFERENCE_ALPHABET[b % 32] for b in secrets.token_bytes(8))


def _check_params(kind: RequestKind, params: dict[str, Any]) -> dict[str, Any]:
    needed = {RequestKind.RECTIFICATION: ("category", "value"), RequestKind.WITHDRAWAL: ("purposes",),
              RequestKind.EXPLANATION: ("decision_id",)}.get(kind, ())
    for name in needed:
        if params.get(name) in (None, "", []):
            raise CharterError(f"a {kind.value} request needs `params.{name}`", field=f"params.{name}",
                               fix="See the API reference for what each kind of request takes.")
    return {name: params[name] for name in needed}


def _withdrawable(policy: PolicyVersion, purposes: Any) -> list[str]:
    """The purposes of a withdrawal request: each one the policy asks consent for."""
    if isinstance(purposes, str):
        purposes = [purposes]
    if not isinstance(purposes, list) or not all(isinstance(p, str) for p in purposes):
        raise CharterError("`params.purposes` is a list of purpose ids", field="params.purposes")
    offered = sorted(p.id for p in policy.purposes if offers_consent(p))
    for purpose in purposes:
        if purpose not in offered:
            raise CharterError(f"there is no consent to withdraw for purpose {purpose!r}", field="params.purposes",
                               fix=f"Name purposes the policy asks consent for: {', '.join(offered) or 'none'}.")
    return list(dict.fromkeys(purposes))


def _identity(kind: str, value: str) -> tuple[IdentityKind, str]:
    """The identity given, checked and normalised; a mistake names `identity.kind` or `identity.value`."""
    try:
        ik = parse_kind(kind)
    except CharterError as exc:
        raise CharterError(exc.message, field="identity.kind", fix=exc.fix) from None
    try:
        return ik, normalise(ik, value)
    except CharterError as exc:
        raise CharterError(exc.message, field="identity.value", fix=exc.fix) from None


@dataclass(frozen=True)
class Submitted:
    request: DataRequest
    token: str | None
    """The token for status and the bundle, when the host's assertion verified the request at once."""


class RequestService:
    def __init__(self, session: Session, keyring: Keyring, *, queue: TaskQueue | None = None,
                 notify: Any = None) -> None:
        self.session = session
        self.keyring = keyring
        self.queue: TaskQueue = queue or NullQueue()
        self.audit = AuditLog(session)
        self.directory = SubjectDirectory(session, keyring)
        self.outbox = Outbox(session, keyring, notify=notify)
        self.challenges = Challenges(session, keyring)
        self._settings: dict[str, RequestSettings] = {}
        self._started: list[tuple[ClaimingQueue, object]] = []

    # --- reading ----------------------------------------------------------------------------------------------

    def get(self, controller_id: str, request_id: str, *, lock: bool = False) -> DataRequest:
        request = self.session.get(DataRequest, request_id, with_for_update=lock)
        if request is None or request.controller_id != controller_id:
            raise NotFound(f"no request {request_id!r}", field="request_id",
                           fix="Use the id the submission returned, for the same controller.")
        return request

    def by_token(self, controller_id: str, request_id: str, token: str | None) -> DataRequest:
        """The request, for the person holding its token; any mismatch reads as 'not found'."""
        request = self.get(controller_id, request_id)
        if not token or request.token_hash is None or not secrets.compare_digest(request.token_hash,
                                                                                 token_digest(token)):
            raise NotFound(f"no request {request_id!r} for this token", field="token",
                           fix="Send the token verification returned in the Charter-Request-Token header.")
        return request

    def settings(self, controller_id: str) -> RequestSettings:
        row = self._settings.get(controller_id) or self.session.get(RequestSettings, controller_id)
        if row is None:
            row = RequestSettings(controller_id=controller_id, needs_approval=False)
            self.session.add(row)
            self.session.flush()
        self._settings[controller_id] = row  # held, so the session's identity map keeps answering for it
        return row

    def policy(self, controller_id: str) -> PolicyVersion:
        policy = policy_in_force(self.session, controller_id)
        if policy is None:
            raise NotFound(f"controller {controller_id!r} has no policy in force on {utcnow().date().isoformat()}",
                           fix="Publish one with `charter policy publish FILE --controller ID`.")
        return policy

    def params(self, request: DataRequest) -> dict[str, Any]:
        if request.params_encrypted is None:
            return {}
        loaded: dict[str, Any] = json.loads(self.keyring.decrypt(request.params_encrypted,
                                                                 params_context(request.controller_id)))
        return loaded

    # --- submitting ---------------------------------------------------------------------------------------

    @_audited_together
    def submit(self, controller_id: str, *, kind: str, identity_kind: str | None = None,
               identity_value: str | None = None, language: str = "zh-CN", params: dict[str, Any] | None = None,
               assertion: str | None = None, actor: str) -> Submitted:
        """Record a request. With a host `assertion` it is verified at once; otherwise a code goes to the identity
        given — only if Charter knows it, though the answer is the same either way."""
        request_kind = parse_request_kind(kind)
        lang = parse_language(language)
        clean = _check_params(request_kind, params or {})
        policy = self.policy(controller_id)
        if request_kind is RequestKind.WITHDRAWAL:
            clean["purposes"] = _withdrawable(policy, clean["purposes"])
        if assertion is not None:
            self.settings(controller_id)
            vouched = accept_assertion(self.session, self.keyring, controller_id, assertion)
            identity_kind, identity_value = vouched.kind, vouched.value
        if not identity_kind or not identity_value:
            raise CharterError("say who is asking: an identity kind and value, or a host assertion",
                               field="identity", fix="Give identity.kind (email, phone, …) and identity.value.")
        ik, value = _identity(identity_kind, identity_value)
        subject = (self.directory.resolve(controller_id, ik.value, value, actor=actor) if assertion is not None
                   else self.directory.find(controller_id, ik.value, value))
        request = self._create(controller_id, request_kind, ik, value, subject=subject, lang=lang,
                               params=clean, policy=policy)
        self.audit.record(controller_id, actor=actor, action="request.received", target=f"request:{request.id}",
                          data={"kind": request_kind.value, "identity_kind": ik.value,
                                "due_on": request.due_on.isoformat(), "verification": "assertion" if assertion
                                else "code"})
        if assertion is not None:
            return Submitted(request, self._verified(request, "assertion", actor=actor))
        self._send_code(request, deliverable=subject is not None and request.contact_channel != "none", actor=actor)
        return Submitted(request, None)

    @_audited_together
    def submit_for_subject(self, controller_id: str, subject_id: str, *, kind: str, identity_kind: str,
                           identity_value: str, language: str = "zh-CN", params: dict[str, Any] | None = None,
                           verified_by: str, actor: str, reply_to: str | None = None) -> Submitted:
        """Record a request from a person whose identity Charter has just checked itself (the privacy centre's
        one-time code or signed link): it is verified at once, as with a host assertion.

        `identity_value` must be one of `subject_id`'s identities; otherwise "not found". `reply_to`: the email or
        phone the request's news goes to instead of the person's (a guardian acting for a minor)."""
        request_kind = parse_request_kind(kind)
        lang = parse_language(language)
        clean = _check_params(request_kind, params or {})
        ik = parse_kind(identity_kind)
        value = normalise(ik, identity_value)
        subject = self.directory.find(controller_id, ik.value, value)
        if subject is None or subject.id != subject_id:
            raise NotFound("no such person", field="subject_id")
        contact = None
        if reply_to is not None:
            rk = IdentityKind.EMAIL if "@" in reply_to else IdentityKind.PHONE
            contact = _CONTACT_CHANNEL[rk], normalise(rk, reply_to)
        request = self._create(controller_id, request_kind, ik, value, subject=subject, lang=lang, params=clean,
                               policy=self.policy(controller_id), contact=contact)
        self.audit.record(controller_id, actor=actor, action="request.received", target=f"request:{request.id}",
                          data={"kind": request_kind.value, "identity_kind": ik.value,
                                "due_on": request.due_on.isoformat(), "verification": verified_by,
                                "reply_to": "guardian" if reply_to is not None else "subject"})
        return Submitted(request, self._verified(request, verified_by, actor=actor))

    def _create(self, controller_id: str, kind: RequestKind, ik: IdentityKind, value: str, *,
                subject: Subject | None, lang: Lang, params: dict[str, Any], policy: PolicyVersion,
                contact: tuple[str, str] | None = None) -> DataRequest:
        now = utcnow()
        jurisdictions = [j.value for j in policy.jurisdictions]
        received = local_date(now, jurisdictions)
        deadline = due_date(received, kind, jurisdictions)
        channel, address = contact or self._contact(controller_id, ik, value, subject)
        request = DataRequest(
            id=str(uuid.uuid4()), controller_id=controller_id, reference=_reference(), kind=kind.value,
            status=Status.RECEIVED.value, subject_id=subject.id if subject else None, identity_kind=ik.value,
            contact_channel=channel, contact_encrypted=self.keyring.encrypt(address, contact_context(controller_id)),
            language=lang.value, jurisdictions=jurisdictions, received_on=received, due_on=deadline.due,
            due_rule=deadline.rule[:300], is_calendar_fallback=deadline.is_calendar_fallback,
            policy_version=policy.version, created_at=now, updated_at=now,
            params_encrypted=self.keyring.encrypt(json.dumps(params), params_context(controller_id))
            if params else None)
        self.session.add(request)  # written with the next flush: a verified request goes in as planned, once
        return request

    def _contact(self, controller_id: str, ik: IdentityKind, value: str,
                 subject: Subject | None) -> tuple[str, str]:
        """Where to tell the person: the email or phone they gave, else one linked to them, else in the app."""
        if ik in _CONTACT_CHANNEL:
            return _CONTACT_CHANNEL[ik], value
        if subject is None:
            return "none", ""
        linked = {i.kind: i.value for i in self.directory.identities(controller_id, subject.id)}
        for kind, channel in _CONTACT_CHANNEL.items():
            if kind in linked:
                return channel, linked[kind]
        return "in_app", subject.id

    def _send_code(self, request: DataRequest, *, deliverable: bool, actor: str) -> None:
        self.session.flush()  # the challenge refers to the request
        code = self.challenges.issue(request.controller_id, request.id, deliverable=deliverable, now=utcnow())
        if code is not None and request.contact_channel in ("email", "sms"):
            self.outbox.enqueue(request.controller_id, channel=request.contact_channel, to=self.contact(request),
                                template="verification_code", params={"code": code, "expires_minutes": 10},
                                language=request.language, actor=actor)

    def resend_code(self, controller_id: str, request_id: str, *, actor: str) -> None:
        request = self.get(controller_id, request_id)
        if Status(request.status) is Status.RECEIVED:
            self._send_code(request, deliverable=request.subject_id is not None
                            and request.contact_channel in ("email", "sms"), actor=actor)

    def contact(self, request: DataRequest) -> str:
        return self.keyring.decrypt(request.contact_encrypted, contact_context(request.controller_id))

    # --- verification and approval ------------------------------------------------------------------------

    @_audited_together
    def verify(self, controller_id: str, request_id: str, code: str, *, actor: str) -> str:
        """Check the code; on success the request is verified and the token for status and bundle returned."""
        request = self.get(controller_id, request_id, lock=True)
        if Status(request.status) is not Status.RECEIVED:
            # Verified already, or refused: answered as a wrong code, so nothing about the request leaks.
            self.challenges.check(controller_id, request_id, "x", now=utcnow())
        self.challenges.check(controller_id, request_id, code, now=utcnow())
        return self._verified(request, "code", actor=actor)

    def _verified(self, request: DataRequest, how: str, *, actor: str) -> str:
        request.status = transition(request.status, Event.VERIFY).value
        request.verified_by, request.verified_at = how, utcnow()
        token = secrets.token_urlsafe(32)
        request.token_hash = token_digest(token)
        self.audit.record(request.controller_id, actor=actor, action="request.identity_verified",
                          target=f"request:{request.id}", data={"by": how})
        needs_approval = self.settings(request.controller_id).needs_approval
        if Status(advance(request.status, needs_approval=needs_approval)) is Status.APPROVED:
            self._approved(request, by="automatic", actor=actor)
        self.tell(request, "request_received", {"due_date": request.due_on.isoformat()}, actor=actor)
        return token

    @_audited_together
    def approve(self, controller_id: str, request_id: str, *, actor: str) -> DataRequest:
        request = self.get(controller_id, request_id, lock=True)
        transition(request.status, Event.APPROVE)
        self._approved(request, by=actor, actor=actor)
        return request

    def _approved(self, request: DataRequest, *, by: str, actor: str) -> None:
        request.status = transition(request.status, Event.APPROVE).value
        request.approved_by, request.approved_at, request.updated_at = by, utcnow(), utcnow()
        self.audit.record(request.controller_id, actor=actor, action="request.approved",
                          target=f"request:{request.id}", data={"by": "automatic" if by == "automatic" else "staff"})
        self.plan(request, actor=actor)

    def refuse(self, controller_id: str, request_id: str, *, ground: str | None, note: str | None = None,
               actor: str) -> DataRequest:
        """Refuse with one of the grounds the policy's jurisdictions allow for this kind and the policy lists."""
        request = self.get(controller_id, request_id, lock=True)
        label = self._ground(request, ground)
        request.status = transition(request.status, Event.REFUSE).value
        request.refusal_ground, request.updated_at = ground, utcnow()
        if note:
            request.refusal_note_encrypted = self.keyring.encrypt(note, note_context(controller_id))
        self.audit.record(controller_id, actor=actor, action="request.refused", target=f"request:{request.id}",
                          data={"ground": ground})
        params: dict[str, Any] = {"ground": label}
        if note:
            params["explanation"] = note
        self.tell(request, "request_refused", params, actor=actor)
        return request

    def allowed_grounds(self, request: DataRequest) -> dict[str, Text]:
        listed = set(self.policy(request.controller_id).refusal_grounds)
        return {g.code: g.label for g in refusal_grounds(request.jurisdictions, request.kind) if g.code in listed}

    def _ground(self, request: DataRequest, ground: str | None) -> Text:
        allowed = self.allowed_grounds(request)
        if not ground or ground not in allowed:
            shown = ", ".join(sorted(allowed)) or "none: this request cannot be refused under the policy"
            raise CharterError("a refusal needs one of the enumerated grounds" if not ground else
                               f"{ground!r} is not a refusal ground for this request", field="ground",
                               fix=f"Give `ground` as one of: {shown}.")
        return allowed[ground]

    # --- planning -----------------------------------------------------------------------------------------

    def plan(self, request: DataRequest, *, actor: str) -> list[int]:
        """Persist the request's tasks and start it; the first task is enqueued once the caller commits."""
        kind = RequestKind(request.kind)
        params = self.params(request)
        try:
            with self.session.no_autoflush:  # the request's changes go in one UPDATE, with its tasks below
                identities = self._identities(request) if kind in NEEDS_DATAMAP else {}
                drafts = self._drafts(request, kind, identities, params)
                held = False
                if kind in (RequestKind.ERASURE, RequestKind.CANCELLATION):
                    drafts, held = self._respect_holds(request, drafts)
        except CharterError as exc:
            request.status = transition(request.status, Event.FAIL).value
            request.error_code, request.error_message = exc.code, exc.message[:1000]
            self.audit.record(request.controller_id, actor=actor, action="request.failed",
                              target=f"request:{request.id}", data={"error": exc.code})
            return []
        request.status = transition(request.status, Event.PLAN).value
        request.status = transition(request.status, Event.START).value
        request.started_at = request.updated_at = utcnow()
        queue = self.queue
        first = queue.first_claim([d.operation.value for d in drafts]) if isinstance(queue, ClaimingQueue) and \
            drafts else None
        claimed: object | None = None
        if first is not None and isinstance(queue, ClaimingQueue):
            # Claimed before the rows are written, under ids standing in for theirs (`ClaimingQueue.claimed`): a
            # first batch that only reads starts now, its reads overlapping the INSERTs below.
            planned = Planned(tuple(PlannedTask(-1 - position, position, d.operation.value, d.collection, d.spec,
                                                d.task) for position, d in enumerate(drafts)),
                              claimed=first.count, held=held, identities=identities, params=params)
            claimed = queue.claimed(self.session, request, planned)
            self._when_done(queue, claimed)
        self.session.flush()
        ids = self._insert_tasks(request, drafts, first)
        self.audit.record(request.controller_id, actor=actor, action="request.planned",
                          target=f"request:{request.id}",
                          data={"tasks": len(drafts), "datamap_version": request.datamap_version})
        if claimed is not None and isinstance(queue, ClaimingQueue):
            queue.bind_claimed(claimed, ids)
            self._started.append((queue, claimed))
            return ids
        self.enqueue_after_commit(ids[:1])
        return ids

    def _when_done(self, queue: ClaimingQueue, claimed: object) -> None:
        """Start (or let settle) what `claimed` returned once this transaction commits; drop it if it rolls back.
        One pair of listeners per session hands out what its transactions claimed (`_CLAIMED`), in order."""
        waiting: list[tuple[ClaimingQueue, object]] | None = self.session.info.get(_CLAIMED)
        if waiting is None:
            waiting = self.session.info[_CLAIMED] = []
            event.listen(self.session, "after_commit", _start_claimed)
            event.listen(self.session, "after_rollback", _abandon_claimed)
        waiting.append((queue, claimed))

    def _settle_started(self) -> None:
        """First batches this unit of work started before committing (an access pass) that have finished by now
        are recorded in its transaction rather than in one of their own; the batch each claimed next (an erasure's
        changes) may start at once, but what it changes is committed in the stores only after this transaction
        commits, so the access pass is durable before anything is changed (`InProcessWorker.start_early`)."""
        started, self._started = self._started, []
        for queue, claimed in started:
            following = queue.settle_here(self.session, claimed)
            if following is not None:
                self._when_done(queue, following)

    def _insert_tasks(self, request: DataRequest, drafts: Sequence[TaskDraft], first: FirstClaim | None) -> list[int]:
        """Write the tasks in one statement, the first `first.count` already claimed; their ids in order (from
        RETURNING where the database has it)."""
        if not drafts:
            return []
        now = utcnow()
        rows = [{"request_id": request.id, "controller_id": request.controller_id, "position": i,
                 "operation": d.operation.value, "collection": d.collection, "spec": d.spec, "status": "pending",
                 "attempts": 0, "enqueued_at": now, "lease_until": None, "started_at": None}
                for i, d in enumerate(drafts)]
        if first is not None:
            for row in rows[:first.count]:
                row.update(status="running", attempts=1, lease_until=first.lease_until, started_at=first.now)
        statement = insert(TASKS)  # Core: the ORM's bulk INSERT splits rows by which values are None
        if self.session.get_bind().dialect.insert_executemany_returning:
            # Not `sort_by_parameter_order`: without a sentinel column SQLite would get one INSERT per row.
            returned = self.session.execute(statement.returning(TASKS.c.position, TASKS.c.id), rows)
            return [int(row[1]) for row in sorted(returned, key=lambda row: int(row[0]))]
        self.session.execute(statement, rows)
        return list(self.session.execute(select(RequestTask.id).where(RequestTask.request_id == request.id)
                                         .order_by(RequestTask.position)).scalars())

    def _identities(self, request: DataRequest) -> dict[str, tuple[str, ...]]:
        """The subject's identities, kind → values (none without a subject)."""
        found: dict[str, list[str]] = {}
        if request.subject_id is not None:
            for identity in self.directory.identities(request.controller_id, request.subject_id):
                found.setdefault(identity.kind.value, []).append(identity.value)
        return {k: tuple(v) for k, v in found.items()}

    def _respect_holds(self, request: DataRequest, drafts: list[TaskDraft]) -> tuple[list[TaskDraft], bool]:
        """Leave what a legal hold keeps, and record it as held so the person is told (LAN-RETENTION, LAN-LIMITS);
        whether anything is held."""
        if request.subject_id is None:
            return drafts, False
        erased = [d.collection for d in drafts if d.operation is Operation.ERASE and d.collection]
        holds = LegalHolds(self.session, self.keyring).in_force(request.controller_id)
        held = held_for(holds, request.subject_id, erased, utcnow())
        if held:
            self.session.flush()  # the held items refer to the request
        for key, hold in held.items():
            day = hold.expires_at.date().isoformat()
            self.session.add(HeldItem(request_id=request.id, controller_id=request.controller_id, collection=key,
                                      field="*", rule="legal_hold", reason={
                                          "zh": f"依法保全，{day}前暂不删除，仅作存储和安全保护",
                                          "en": f"kept under a legal hold until {day}: stored and secured only",
                                          "zh_tw": f"依法保全，{day}前暫不刪除，僅作儲存和安全保護"}))
        return [d for d in drafts if not (d.operation is Operation.ERASE and d.collection in held)], bool(held)

    def _drafts(self, request: DataRequest, kind: RequestKind, identities: Mapping[str, Sequence[str]],
                params: dict[str, Any]) -> list[TaskDraft]:
        """The request's tasks, from the plan of the data map in force (its tasks' JSON remembered with it)."""
        if kind not in NEEDS_DATAMAP:
            return draft_tasks(kind, None, params)
        if request.subject_id is None:
            raise CharterError("the request has no subject", field="subject_id")
        try:
            datamap = compiled(self.session, request.controller_id)
        except NotFound:
            return draft_tasks(kind, None, params)
        request.datamap_version = datamap.version
        plan = datamap.plan(set(identities) or {request.identity_kind})
        return draft_tasks(kind, plan, params, datamap.spec)

    def enqueue_after_commit(self, task_ids: Sequence[int]) -> None:
        if not task_ids:
            return
        ids, queue = list(task_ids), self.queue
        event.listen(self.session, "after_commit", lambda _s: queue.enqueue(ids), once=True)

    # --- telling the person -------------------------------------------------------------------------------

    def tell(self, request: DataRequest, template: str, params: dict[str, Any], *, actor: str) -> None:
        """Send `template` to the person, in their language, once per request and template."""
        if request.contact_channel == "none" or (request.contact_channel == "in_app" and request.subject_id is None):
            return
        base = {"reference": request.reference, "request_type": KIND_LABELS[RequestKind(request.kind)]}
        in_app = request.contact_channel == "in_app"
        self.outbox.enqueue(request.controller_id, channel=request.contact_channel,
                            to=None if in_app else self.contact(request),
                            subject_id=request.subject_id if in_app else None, template=template,
                            params={**base, **params}, language=request.language, actor=actor,
                            idempotency_key=f"request:{request.id}:{template}")

    # --- deadlines ----------------------------------------------------------------------------------------

    def record_late_reason(self, controller_id: str, request_id: str, reason: str, *, actor: str) -> DataRequest:
        """The written reason a request cannot be met in time (PDPO s.19(2), s.23(2)), recorded before the due
        date; it is sent to the person."""
        request = self.get(controller_id, request_id, lock=True)
        if not reason.strip():
            raise CharterError("the reason is empty", field="reason", fix="Write why the request cannot be met "
                               "in time, as the person will read it.")
        if Status(request.status).is_done:
            raise CharterError("the request is already answered", field="request_id")
        request.late_reason_encrypted = self.keyring.encrypt(reason.strip(), note_context(controller_id))
        request.late_reason_at = utcnow()
        self.audit.record(controller_id, actor=actor, action="request.late_reason_recorded",
                          target=f"request:{request.id}",
                          data={"before_due": local_date(utcnow(), request.jurisdictions) <= request.due_on})
        return request

    def open_requests(self, controller_id: str) -> list[DataRequest]:
        done = [s.value for s in Status if s.is_done]
        return list(self.session.execute(select(DataRequest).where(
            DataRequest.controller_id == controller_id, DataRequest.status.not_in(done))
            .order_by(DataRequest.due_on, DataRequest.created_at)).scalars())

    def of_subject(self, controller_id: str, subject_id: str) -> list[DataRequest]:
        """One person's requests, newest first."""
        return list(self.session.execute(select(DataRequest).where(
            DataRequest.controller_id == controller_id, DataRequest.subject_id == subject_id)
            .order_by(DataRequest.created_at.desc())).scalars())

    def search(self, controller_id: str, *, kind: str | None = None, status: str | None = None,
               due_by: dt.date | None = None, is_open: bool = False, limit: int = 200) -> list[DataRequest]:
        """The staff queue: by kind, status, due on or before a day, only open ones; soonest due first."""
        q = select(DataRequest).where(DataRequest.controller_id == controller_id)
        if kind:
            q = q.where(DataRequest.kind == kind)
        if status:
            q = q.where(DataRequest.status == status)
        if due_by is not None:
            q = q.where(DataRequest.due_on <= due_by)
        if is_open:
            q = q.where(DataRequest.status.not_in([s.value for s in Status if s.is_done]))
        return list(self.session.execute(q.order_by(DataRequest.due_on, DataRequest.created_at).limit(limit))
                    .scalars())

    def list(self, controller_id: str, *, limit: int = 200) -> list[DataRequest]:
        return list(self.session.execute(select(DataRequest).where(DataRequest.controller_id == controller_id)
                                         .order_by(DataRequest.created_at.desc()).limit(limit)).scalars())
