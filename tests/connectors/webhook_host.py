"""A small host application answering Charter's signed webhook, the way a real host would: it checks the
signature, finds the person's rows in its own store (here, memory) and applies the strategies Charter names."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from charter.connectors.base import ErasureSpec, Strategy
from charter.connectors.transforms import erased_value
from charter.connectors.webhook import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, verify_signature


@dataclass
class HostStore:
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    """(operation, idempotency key) of every accepted call."""


def _matches(row: dict[str, Any], lookup: dict[str, list[Any]]) -> bool:
    return any(row.get(name) in values for name, values in lookup.items())


def _erase(rows: list[dict[str, Any]], body: dict[str, Any]) -> dict[str, Any]:
    mine = [r for r in rows if _matches(r, body["lookup"])]
    if body["delete_rows"]:
        rows[:] = [r for r in rows if r not in mine]
        return {"rows_deleted": len(mine), "rows_changed": 0}
    changed = 0
    for row in mine:
        before = dict(row)
        for spec in body["fields"]:
            erasure = ErasureSpec.model_validate({k: v for k, v in spec.items() if k != "name"})
            if erasure.strategy not in (Strategy.KEEP, Strategy.HASH):
                row[spec["name"]] = erased_value(erasure, row.get(spec["name"]))
        changed += row != before
    return {"rows_deleted": 0, "rows_changed": changed}


def _expire(rows: list[dict[str, Any]], body: dict[str, Any]) -> dict[str, Any]:
    """A retention sweep: at most `limit` expired rows (moments kept as ISO 8601 text), the held ones spared."""
    field, before = body["field"], body["before"]
    expired = [r for r in rows if (field is None or str(r.get(field) or "9999") < before)
               and not _matches(r, body["keep"])]
    chunk = expired[:body["limit"]]
    more = len(expired) > len(chunk)
    if body["dry_run"]:
        key = "rows_deleted" if body["delete_rows"] else "rows_changed"
        return {"rows_deleted": 0, "rows_changed": 0, key: len(expired), "more": False}
    if body["delete_rows"]:
        rows[:] = [r for r in rows if r not in chunk]
        return {"rows_deleted": len(chunk), "rows_changed": 0, "more": more}
    return {**_erase(chunk, {**body, "lookup": {"id": [r["id"] for r in chunk]}}), "more": False}


def _scan(rows: list[dict[str, Any]], body: dict[str, Any]) -> dict[str, Any]:
    start = int(body["cursor"] or 0)
    page = rows[start:start + body["chunk_size"]]
    following = start + len(page)
    return {"rows": [{f: r.get(f) for f in body["fields"]} for r in page],
            "cursor": str(following) if following < len(rows) else None}


def _retrieve(rows: list[dict[str, Any]], body: dict[str, Any]) -> dict[str, Any]:
    return {"rows": [{f: r.get(f) for f in body["fields"]} for r in rows if _matches(r, body["lookup"])]}


def _rectify(rows: list[dict[str, Any]], body: dict[str, Any]) -> dict[str, Any]:
    mine = [r for r in rows if _matches(r, body["lookup"]) and r.get(body["field"]) != body["value"]]
    for row in mine:
        row[body["field"]] = body["value"]
    return {"rows_changed": len(mine)}


_OPERATIONS = {"retrieve": _retrieve, "erase": _erase, "rectify": _rectify, "expire": _expire, "scan": _scan}


def make_host(key: bytes) -> tuple[FastAPI, HostStore]:
    app = FastAPI()
    store = HostStore()

    @app.post("/charter")
    async def test(request: Request) -> JSONResponse:
        if not verify_signature(key, request.headers.get(SIGNATURE_HEADER), await request.body()):
            return JSONResponse({"error": "bad signature"}, status_code=401)
        return JSONResponse({"ok": True})

    @app.post("/charter/{collection}")
    async def operate(collection: str, request: Request) -> JSONResponse:
        raw = await request.body()
        if not verify_signature(key, request.headers.get(SIGNATURE_HEADER), raw):
            return JSONResponse({"error": "bad signature"}, status_code=401)
        rows = store.tables.get(collection)
        if rows is None:
            return JSONResponse({"error": "no such collection"}, status_code=404)
        body = await request.json()
        store.calls.append((body["operation"], request.headers.get(IDEMPOTENCY_HEADER, "")))
        return JSONResponse(_OPERATIONS[body["operation"]](rows, body))

    return app, store
