"""The policy store: publish immutable versions, list them, fetch one, find the one in force."""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Sequence
from typing import cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from charter.accounts.services import ControllerService
from charter.core.errors import CharterError, NotFound
from charter.policy.check import check_policy
from charter.policy.hashing import content_hash
from charter.policy.loader import LoadedPolicy, PolicyFileError, Problem, load_policy_text
from charter.policy.models import PolicyVersionRecord
from charter.policy.schema import PolicyVersion
from charter.policy.versioned import DocumentInvalid, Published, VersionedDocuments

__all__ = ["PolicyInvalid", "PolicyStore", "Published", "as_policy", "policy_in_force", "validate_source"]


class PolicyInvalid(DocumentInvalid):
    code = "policy_invalid"

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("policy", problems)


def as_policy(record: PolicyVersionRecord) -> PolicyVersion:
    return PolicyVersion.model_validate(record.document)


_PARSED: OrderedDict[str, PolicyVersion] = OrderedDict()
_PARSED_MAX = 64
# On the hot path (every message's footer): built once, on the table rather than the ORM class, it costs a third of
# what building and running an ORM statement did. Publishing flushes, so a Core statement (no autoflush) misses nothing.
_VERSIONS = cast(Table, PolicyVersionRecord.__table__).c
_IN_FORCE = (select(_VERSIONS.id, _VERSIONS.content_hash)
             .where(_VERSIONS.controller_id == bindparam("controller_id"), _VERSIONS.effective <= bindparam("day"))
             .order_by(_VERSIONS.effective.desc(), _VERSIONS.id.desc()).limit(1))


_MEMO = "charter.policy_in_force"
"""session.info: the transaction that looked, and what it found per controller (publishing forgets it)."""


def policy_in_force(session: Session, controller_id: str) -> PolicyVersion | None:
    """The policy in force today, or None; parsed once per content hash (published versions never change), and
    looked up once per transaction (a request's submission and its messages' footers ask several times)."""
    transaction = session.get_transaction()
    memo: tuple[object, dict[str, PolicyVersion | None]] | None = session.info.get(_MEMO)
    if transaction is not None and memo is not None and memo[0] is transaction and controller_id in memo[1]:
        return memo[1][controller_id]
    policy = _look_up(session, controller_id)
    if transaction is not None:
        if memo is None or memo[0] is not transaction:
            memo = session.info[_MEMO] = (transaction, {})
        memo[1][controller_id] = policy
    return policy


def _look_up(session: Session, controller_id: str) -> PolicyVersion | None:
    found = session.execute(_IN_FORCE, {"controller_id": controller_id,
                                        "day": dt.datetime.now(dt.UTC).date()}).first()
    if found is None:
        return None
    record_id, digest = found
    policy = _PARSED.get(digest)
    if policy is None:
        record = session.get(PolicyVersionRecord, record_id)
        assert record is not None  # noqa: S101 - read just now; published versions are never deleted
        policy = _PARSED[digest] = as_policy(record)
        while len(_PARSED) > _PARSED_MAX:
            _PARSED.popitem(last=False)
    return policy


def validate_source(text: str, source: str) -> LoadedPolicy:
    """Load and cross-check a policy text, raising `PolicyInvalid` with every problem found."""
    try:
        loaded = load_policy_text(text, source)
    except PolicyFileError as exc:
        raise PolicyInvalid(exc.problems) from exc
    problems = check_policy(loaded)
    if problems:
        raise PolicyInvalid(problems)
    return loaded


class PolicyStore(VersionedDocuments[PolicyVersionRecord]):
    record_type, kind, noun = PolicyVersionRecord, "policy", "policy"
    listing = "GET /v1/policies or `charter policy list`"

    def publish(self, controller_id: str, text: str, *, source: str, actor: str) -> Published[PolicyVersionRecord]:
        ControllerService(self.session).get(controller_id)
        self.session.info.pop(_MEMO, None)  # what this transaction found in force may change now
        policy = validate_source(text, source).policy
        if policy.controller.id != controller_id:
            raise CharterError(
                f"the policy is for controller {policy.controller.id!r}, not {controller_id!r}",
                field="controller.id", fix="Publish it for the controller it names, or correct controller.id.")
        record = PolicyVersionRecord(
            controller_id=controller_id, version=policy.version, content_hash=content_hash(policy),
            effective=policy.effective, document=policy.model_dump(mode="json", by_alias=True),
            source=text, published_by=actor)
        return self.store(record, actor=actor, data={"effective": policy.effective.isoformat()})

    def list(self, controller_id: str) -> list[PolicyVersionRecord]:
        return list(self.session.execute(
            select(PolicyVersionRecord).where(PolicyVersionRecord.controller_id == controller_id)
            .order_by(PolicyVersionRecord.effective, PolicyVersionRecord.id)
        ).scalars())

    def in_force(self, controller_id: str, on: dt.date | None = None) -> PolicyVersionRecord:
        """The latest version whose effective date has come."""
        day = on or dt.datetime.now(dt.UTC).date()
        record = self.session.execute(
            select(PolicyVersionRecord).where(PolicyVersionRecord.controller_id == controller_id,
                                              PolicyVersionRecord.effective <= day)
            .order_by(PolicyVersionRecord.effective.desc(), PolicyVersionRecord.id.desc()).limit(1)
        ).scalar_one_or_none()
        if record is None:
            raise NotFound(f"controller {controller_id!r} has no policy in force on {day.isoformat()}",
                           fix="Publish one with `charter policy publish FILE --controller ID`.")
        return record
