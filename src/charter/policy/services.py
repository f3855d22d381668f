"""The policy store: publish immutable versions, list them, fetch one, find the one in force."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from charter.accounts.services import ControllerService
from charter.audit.services import AuditLog
from charter.core.errors import CharterError, Conflict, NotFound
from charter.policy.check import check_policy
from charter.policy.hashing import content_hash
from charter.policy.loader import LoadedPolicy, PolicyFileError, Problem, load_policy_text
from charter.policy.models import PolicyVersionRecord
from charter.policy.schema import PolicyVersion


class PolicyInvalid(CharterError):
    code = "policy_invalid"

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"the policy has {len(problems)} problem(s); nothing was stored",
                         fix="Correct each problem listed and publish again.")
        self.problems = problems


@dataclass(frozen=True)
class Published:
    record: PolicyVersionRecord
    created: bool
    """False when the same content was already published: publishing is idempotent."""


def as_policy(record: PolicyVersionRecord) -> PolicyVersion:
    return PolicyVersion.model_validate(record.document)


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


class PolicyStore:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.audit = AuditLog(session)

    def publish(self, controller_id: str, text: str, *, source: str, actor: str) -> Published:
        ControllerService(self.session).get(controller_id)
        loaded = validate_source(text, source)
        policy = loaded.policy
        if policy.controller.id != controller_id:
            raise CharterError(
                f"the policy is for controller {policy.controller.id!r}, not {controller_id!r}",
                field="controller.id", fix="Publish it for the controller it names, or correct controller.id.")
        digest = content_hash(policy)
        same = self._by(controller_id, content_hash=digest)
        if same is not None:
            return Published(same, created=False)
        clash = self._by(controller_id, version=policy.version)
        if clash is not None:
            raise Conflict(
                f"version {policy.version!r} is already published with different content; published versions "
                "are immutable", field="version", fix="Give the changed policy a new `version:` label.")
        record = PolicyVersionRecord(
            controller_id=controller_id, version=policy.version, content_hash=digest,
            effective=policy.effective, document=policy.model_dump(mode="json", by_alias=True),
            source=text, published_by=actor)
        self.session.add(record)
        self.session.flush()
        self.audit.record(controller_id, actor=actor, action="policy.published", target=f"policy:{record.id}",
                          data={"version": policy.version, "content_hash": digest,
                                "effective": policy.effective.isoformat()})
        return Published(record, created=True)

    def _by(self, controller_id: str, *, version: str | None = None,
            content_hash: str | None = None) -> PolicyVersionRecord | None:
        q = select(PolicyVersionRecord).where(PolicyVersionRecord.controller_id == controller_id)
        if version is not None:
            q = q.where(PolicyVersionRecord.version == version)
        if content_hash is not None:
            q = q.where(PolicyVersionRecord.content_hash == content_hash)
        return self.session.execute(q).scalar_one_or_none()

    def list(self, controller_id: str) -> list[PolicyVersionRecord]:
        return list(self.session.execute(
            select(PolicyVersionRecord).where(PolicyVersionRecord.controller_id == controller_id)
            .order_by(PolicyVersionRecord.effective, PolicyVersionRecord.id)
        ).scalars())

    def get(self, controller_id: str, version: str) -> PolicyVersionRecord:
        record = self._by(controller_id, version=version)
        if record is None:
            raise NotFound(f"no published policy version {version!r}",
                           fix="List versions with GET /v1/policies or `charter policy list`.")
        return record

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
