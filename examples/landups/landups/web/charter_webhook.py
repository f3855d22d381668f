"""The signed webhook Charter's data map calls for what no SQL connector can reach: the sealed ID photo files.

`POST /charter/webhook` answers Charter's connection test; `POST /charter/webhook/id_photo_files` answers
`retrieve` (each file named in the lookup that exists: type, size) and `erase` (the files are deleted). Every
call must carry a `Charter-Signature` made with `LANDUPS_CHARTER_WEBHOOK_KEY` (the data map's secret
`LANDUPS_WEBHOOK`) within five minutes, checked with `charter.connectors.webhook.verify_signature`; without the
setting the endpoint does not exist. Erasing twice does no harm, so a retried call needs no memory of the first.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select

from charter.connectors.webhook import SIGNATURE_HEADER, verify_signature
from landups.models import IdPhoto
from landups.web.context import DbSession, app_state

router = APIRouter(prefix="/charter/webhook")
COLLECTION = "id_photo_files"


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message}}, status_code=status)


async def _signed_body(request: Request) -> dict[str, Any] | Response:
    key = app_state(request).settings.charter_webhook_key
    if not key:
        return _error(404, "the Charter webhook is not configured (LANDUPS_CHARTER_WEBHOOK_KEY)")
    body = await request.body()
    if not verify_signature(key.encode(), request.headers.get(SIGNATURE_HEADER), body):
        return _error(401, "missing, wrong or stale Charter-Signature")
    try:
        parsed = json.loads(body)
    except ValueError:
        return _error(400, "the body is not JSON")
    if not isinstance(parsed, dict):
        return _error(400, "the body is not a JSON object")
    return parsed


@router.post("")
async def connection_test(request: Request) -> Response:
    call = await _signed_body(request)
    if isinstance(call, Response):
        return call
    return JSONResponse({"ok": True, "collections": [COLLECTION]})


def _names(call: dict[str, Any]) -> list[str]:
    values = (call.get("lookup") or {}).get("stored_name") or []
    return [v for v in values if isinstance(v, str)]


@router.post(f"/{COLLECTION}")
async def id_photo_files(request: Request, db: DbSession) -> Response:
    call = await _signed_body(request)
    if isinstance(call, Response):
        return call
    vault = app_state(request).vault
    names = []
    for name in _names(call):
        try:
            names.append((name, vault.path(name)))
        except ValueError:
            continue   # not a name the vault ever gave out
    operation = call.get("operation")
    if operation == "retrieve":
        found = select(IdPhoto.stored_name, IdPhoto.content_type).where(
            IdPhoto.stored_name.in_([n for n, _ in names]))
        types: dict[str, str] = {row.stored_name: row.content_type for row in db.execute(found)}
        rows = [{"stored_name": name, "content_type": types.get(name), "byte_size": path.stat().st_size,
                 "exists": True} for name, path in names if path.is_file()]
        return JSONResponse({"rows": rows})
    if operation == "erase":
        deleted = 0
        for name, path in names:
            if path.is_file():
                vault.delete(name)
                deleted += 1
        return JSONResponse({"rows_deleted": deleted, "rows_changed": 0})
    return _error(400, f"{COLLECTION} answers retrieve and erase only")
