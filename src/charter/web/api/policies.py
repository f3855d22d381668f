"""Policy versions over HTTP: publish, list, get, diff, render, promise coverage."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from charter.core.errors import CharterError
from charter.core.i18n import Lang
from charter.operations.changes import schedule_change
from charter.policy.coverage import coverage
from charter.policy.diff import diff_policies
from charter.policy.models import PolicyVersionRecord
from charter.policy.render import render_html, render_markdown
from charter.policy.services import PolicyStore, as_policy
from charter.web.deps import DbSession, SecretKey
from charter.web.serialise import jsonable

router = APIRouter(prefix="/v1/policies", tags=["policies"])

_YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain")


class PolicyVersionOut(BaseModel):
    version: str
    content_hash: str
    effective: dt.date
    published_at: dt.datetime
    published_by: str


class PublishOut(PolicyVersionOut):
    created: bool


def _out(record: PolicyVersionRecord) -> PolicyVersionOut:
    return PolicyVersionOut(version=record.version, content_hash=record.content_hash, effective=record.effective,
                            published_at=record.published_at, published_by=record.published_by)


@router.post("", status_code=201, response_model=PublishOut,
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/yaml": {"schema": {"type": "string"}},
                 "application/json": {"schema": {"type": "object"}}}}})
async def publish(request: Request, response: Response, session: DbSession, key: SecretKey) -> PublishOut:
    """Publish a policy version (YAML or JSON body). Publishing identical content again changes nothing."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in (*_YAML_TYPES, "application/json"):
        raise CharterError(f"unsupported content type {ctype or '(none)'!r}",
                           fix="Send the policy as application/yaml or application/json.")
    body = await request.body()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CharterError("the body is not UTF-8 text", fix="Save the policy file as UTF-8.") from exc
    published = PolicyStore(session).publish(key.controller_id, text, source="request body",
                                             actor=f"api_key:{key.key_id}")
    if not published.created:
        response.status_code = 200
    else:
        schedule_change(session, key.controller_id, published.record, actor=f"api_key:{key.key_id}")
    return PublishOut(**_out(published.record).model_dump(), created=published.created)


@router.get("", response_model=list[PolicyVersionOut])
def list_versions(session: DbSession, key: SecretKey) -> list[PolicyVersionOut]:
    return [_out(r) for r in PolicyStore(session).list(key.controller_id)]


@router.get("/diff")
def diff(session: DbSession, key: SecretKey,
         old: Annotated[str, Query(alias="from", description="the earlier version label")],
         new: Annotated[str, Query(alias="to", description="the later version label")]) -> Any:
    store = PolicyStore(session)
    result = diff_policies(as_policy(store.get(key.controller_id, old)),
                           as_policy(store.get(key.controller_id, new)))
    return jsonable(result)


@router.get("/{version}")
def get_version(version: str, session: DbSession, key: SecretKey) -> Any:
    record = PolicyStore(session).get(key.controller_id, version)
    return {**_out(record).model_dump(mode="json"), "document": record.document}


@router.get("/{version}/render")
def render(version: str, session: DbSession, key: SecretKey, lang: str = "zh-CN",
           fmt: Annotated[Literal["html", "markdown"], Query(alias="format")] = "html") -> Response:
    try:
        language = Lang.parse(lang)
    except ValueError as exc:
        raise CharterError(str(exc), field="lang") from exc
    policy = as_policy(PolicyStore(session).get(key.controller_id, version))
    if fmt == "markdown":
        return Response(render_markdown(policy, language), media_type="text/markdown; charset=utf-8")
    return Response(render_html(policy, language), media_type="text/html; charset=utf-8")


@router.get("/{version}/promises")
def promises(version: str, session: DbSession, key: SecretKey) -> Any:
    policy = as_policy(PolicyStore(session).get(key.controller_id, version))
    return jsonable(coverage(policy))
