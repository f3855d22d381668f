"""The data map store: publish immutable versions (checked against the policy in force), list, fetch, and the
current one a request runs against."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from charter.accounts.services import ControllerService
from charter.audit.services import AuditLog
from charter.core.errors import CharterError, Conflict, NotFound
from charter.core.yamldoc import Problem
from charter.datamap.check import check_datamap
from charter.datamap.loader import DataMapFileError, LoadedDataMap, load_datamap_text
from charter.datamap.models import DataMapVersionRecord
from charter.datamap.schema import DataMap
from charter.policy.services import PolicyStore, as_policy

__all__ = ["DataMapInvalid", "DataMapStore", "Published", "as_datamap", "as_document", "content_hash"]


class DataMapInvalid(CharterError):
    code = "datamap_invalid"

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"the data map has {len(problems)} problem(s); nothing was stored",
                         fix="Correct each problem listed and publish again.")
        self.problems = problems


@dataclass(frozen=True)
class Published:
    record: DataMapVersionRecord
    created: bool
    """False when the same content was already published: publishing is idempotent."""


def as_datamap(record: DataMapVersionRecord) -> DataMap:
    return DataMap.model_validate(record.document)


def as_document(datamap: DataMap) -> dict[str, object]:
    """The map as JSON data, leaving out what is unset (a stored `erasure: null` would read as the YAML trap)."""
    return datamap.model_dump(mode="json", by_alias=True, exclude_none=True)


def content_hash(datamap: DataMap) -> str:
    """`sha256:` and the hex digest of the map as sorted, compact JSON: the same for the same content."""
    text = json.dumps(as_document(datamap), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


class DataMapStore:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.audit = AuditLog(session)

    def validate(self, controller_id: str, text: str, *, source: str) -> tuple[LoadedDataMap, str]:
        """Load and check a map against the controller's policy in force; returns it and that policy's version."""
        try:
            loaded = load_datamap_text(text, source)
        except DataMapFileError as exc:
            raise DataMapInvalid(exc.problems) from exc
        try:
            policy = as_policy(PolicyStore(self.session).in_force(controller_id))
        except NotFound as exc:
            raise CharterError(f"controller {controller_id!r} has no policy in force to check the data map against",
                               fix="Publish the policy first (`charter policy publish`), then the data map.") from exc
        named = loaded.document.controller
        if named is not None and named != controller_id:
            raise CharterError(f"the data map is for controller {named!r}, not {controller_id!r}", field="controller",
                               fix="Publish it for the controller it names, or correct `controller:`.")
        problems = check_datamap(loaded, policy)
        if problems:
            raise DataMapInvalid(problems)
        return loaded, policy.version

    def publish(self, controller_id: str, text: str, *, source: str, actor: str) -> Published:
        ControllerService(self.session).get(controller_id)
        loaded, policy_version = self.validate(controller_id, text, source=source)
        datamap = loaded.document
        digest = content_hash(datamap)
        same = self._by(controller_id, content_hash=digest)
        if same is not None:
            return Published(same, created=False)
        if self._by(controller_id, version=datamap.version) is not None:
            raise Conflict(f"data map version {datamap.version!r} is already published with different content; "
                           "published versions are immutable", field="version",
                           fix="Give the changed data map a new `version:` label.")
        record = DataMapVersionRecord(
            controller_id=controller_id, version=datamap.version, content_hash=digest, policy_version=policy_version,
            document=as_document(datamap), source=text, published_by=actor)
        self.session.add(record)
        self.session.flush()
        datasets = [d for _s, d in datamap.datasets()]
        self.audit.record(controller_id, actor=actor, action="datamap.published", target=f"datamap:{record.id}",
                          data={"version": datamap.version, "content_hash": digest, "policy_version": policy_version,
                                "datasets": len(datasets),
                                "collections": sum(len(d.collections) for d in datasets)})
        return Published(record, created=True)

    def list(self, controller_id: str) -> list[DataMapVersionRecord]:
        return list(self.session.execute(
            select(DataMapVersionRecord).where(DataMapVersionRecord.controller_id == controller_id)
            .order_by(DataMapVersionRecord.id)).scalars())

    def get(self, controller_id: str, version: str) -> DataMapVersionRecord:
        record = self._by(controller_id, version=version)
        if record is None:
            raise NotFound(f"no published data map version {version!r}",
                           fix="List versions with GET /v1/datamaps or `charter datamap list`.")
        return record

    def current(self, controller_id: str) -> DataMapVersionRecord:
        """The most recently published version: the map new requests are planned with."""
        record = self.session.execute(
            select(DataMapVersionRecord).where(DataMapVersionRecord.controller_id == controller_id)
            .order_by(DataMapVersionRecord.id.desc()).limit(1)).scalar_one_or_none()
        if record is None:
            raise NotFound(f"controller {controller_id!r} has no published data map",
                           fix="Publish one with `charter datamap publish FILE --controller ID`.")
        return record

    def _by(self, controller_id: str, *, version: str | None = None,
            content_hash: str | None = None) -> DataMapVersionRecord | None:
        q = select(DataMapVersionRecord).where(DataMapVersionRecord.controller_id == controller_id)
        if version is not None:
            q = q.where(DataMapVersionRecord.version == version)
        if content_hash is not None:
            q = q.where(DataMapVersionRecord.content_hash == content_hash)
        return self.session.execute(q).scalar_one_or_none()
