"""The data map store: publish immutable versions (checked against the policy in force), list, fetch, and the
current one a request runs against."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from sqlalchemy import select

from charter.accounts.services import ControllerService
from charter.core.errors import CharterError, NotFound
from charter.core.yamldoc import Problem
from charter.datamap.check import check_datamap
from charter.datamap.loader import DataMapFileError, LoadedDataMap, load_datamap_text
from charter.datamap.models import DataMapVersionRecord
from charter.datamap.schema import DataMap
from charter.policy.services import PolicyStore, as_policy
from charter.policy.versioned import DocumentInvalid, Published, VersionedDocuments

__all__ = ["DataMapInvalid", "DataMapStore", "Published", "as_datamap", "as_document", "content_hash"]


class DataMapInvalid(DocumentInvalid):
    code = "datamap_invalid"

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("data map", problems)


def as_datamap(record: DataMapVersionRecord) -> DataMap:
    return DataMap.model_validate(record.document)


def as_document(datamap: DataMap) -> dict[str, object]:
    """The map as JSON data, leaving out what is unset (a stored `erasure: null` would read as the YAML trap)."""
    return datamap.model_dump(mode="json", by_alias=True, exclude_none=True)


def content_hash(datamap: DataMap) -> str:
    """`sha256:` and the hex digest of the map as sorted, compact JSON: the same for the same content."""
    text = json.dumps(as_document(datamap), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


class DataMapStore(VersionedDocuments[DataMapVersionRecord]):
    record_type, kind, noun = DataMapVersionRecord, "datamap", "data map"
    listing = "GET /v1/datamaps or `charter datamap list`"

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

    def publish(self, controller_id: str, text: str, *, source: str,
                actor: str) -> Published[DataMapVersionRecord]:
        ControllerService(self.session).get(controller_id)
        loaded, policy_version = self.validate(controller_id, text, source=source)
        datamap = loaded.document
        record = DataMapVersionRecord(
            controller_id=controller_id, version=datamap.version, content_hash=content_hash(datamap),
            policy_version=policy_version, document=as_document(datamap), source=text, published_by=actor)
        datasets = [d for _s, d in datamap.datasets()]
        return self.store(record, actor=actor, data={
            "policy_version": policy_version, "datasets": len(datasets),
            "collections": sum(len(d.collections) for d in datasets)})

    def list(self, controller_id: str) -> list[DataMapVersionRecord]:
        return list(self.session.execute(
            select(DataMapVersionRecord).where(DataMapVersionRecord.controller_id == controller_id)
            .order_by(DataMapVersionRecord.id)).scalars())

    def current(self, controller_id: str) -> DataMapVersionRecord:
        """The most recently published version: the map new requests are planned with."""
        record = self.session.execute(
            select(DataMapVersionRecord).where(DataMapVersionRecord.controller_id == controller_id)
            .order_by(DataMapVersionRecord.id.desc()).limit(1)).scalar_one_or_none()
        if record is None:
            raise NotFound(f"controller {controller_id!r} has no published data map",
                           fix="Publish one with `charter datamap publish FILE --controller ID`.")
        return record
