"""Data maps over HTTP: publish (checked against the policy in force), list, get."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from charter.core.errors import CharterError
from charter.datamap.models import DataMapVersionRecord
from charter.datamap.services import DataMapStore
from charter.web.deps import DbSession, SecretKey

router = APIRouter(prefix="/v1/datamaps", tags=["datamaps"])

_YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain")


class DataMapVersionOut(BaseModel):
    version: str
    content_hash: str
    policy_version: str
    published_at: dt.datetime
    published_by: str


class PublishOut(DataMapVersionOut):
    created: bool


def _out(record: DataMapVersionRecord) -> DataMapVersionOut:
    return DataMapVersionOut(version=record.version, content_hash=record.content_hash,
                             policy_version=record.policy_version, published_at=record.published_at,
                             published_by=record.published_by)


@router.post("", status_code=201, response_model=PublishOut,
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/yaml": {"schema": {"type": "string"}},
                 "application/json": {"schema": {"type": "object"}}}}})
async def publish(request: Request, response: Response, session: DbSession, key: SecretKey) -> PublishOut:
    """Publish a data map version (YAML or JSON body), checked against the policy in force. Publishing identical
    content again changes nothing."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in (*_YAML_TYPES, "application/json"):
        raise CharterError(f"unsupported content type {ctype or '(none)'!r}",
                           fix="Send the data map as application/yaml or application/json.")
    try:
        text = (await request.body()).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CharterError("the body is not UTF-8 text", fix="Save the data map as UTF-8.") from exc
    published = DataMapStore(session).publish(key.controller_id, text, source="request body",
                                              actor=f"api_key:{key.key_id}")
    if not published.created:
        response.status_code = 200
    return PublishOut(**_out(published.record).model_dump(), created=published.created)


@router.get("", response_model=list[DataMapVersionOut])
def list_versions(session: DbSession, key: SecretKey) -> list[DataMapVersionOut]:
    return [_out(r) for r in DataMapStore(session).list(key.controller_id)]


@router.get("/{version}")
def get_version(version: str, session: DbSession, key: SecretKey) -> Any:
    record = DataMapStore(session).get(key.controller_id, version)
    return {**_out(record).model_dump(mode="json"), "document": record.document}
