"""`WebhookConnector`: the host answers for stores Charter cannot reach, over signed HTTP.

Each operation is one `POST {url}/{endpoint}` with a JSON body:

```json
{"operation": "retrieve", "collection": "favourites", "lookup": {"user_id": [42]}, "fields": [...]}
```

`operation` is `test` (posted to the base URL), `retrieve` (answer `{"rows": [...]}`), `erase` (answer
`{"rows_deleted": n, "rows_changed": n}`), `rectify` (answer `{"rows_changed": n}`), `expire` (a retention sweep:
erase at most `limit` rows whose `field` is before `before` — every row when `field` is null — except those
matching `keep`; answer `{"rows_deleted": n, "rows_changed": n, "more": true|false}`; with `"dry_run": true` count
instead) or `scan` (answer `{"rows": [...], "cursor": "…" | null}`; Charter sends the cursor back for the next
page). The `Charter-Signature`
header reads `t=<unix time>,v1=<hex HMAC-SHA256(key, "<t>." + body)>`; the host checks it with
`verify_signature` (or its own code) and refuses stale or unsigned calls. `Idempotency-Key` is the same for a
repeated call, so a host can answer a retry from memory; erasing twice must do no harm either way.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import httpx

from charter.connectors.base import (
    CollectionSpec,
    ConnectionTest,
    Connector,
    ConnectorError,
    ErasureRecord,
    Expiry,
    Lookup,
    MissingTable,
    RectifyRecord,
    Retrieved,
    Row,
    Scalar,
    Scan,
    StoreKind,
)

__all__ = ["IDEMPOTENCY_HEADER", "SIGNATURE_HEADER", "WebhookConnector", "sign", "verify_signature"]

SIGNATURE_HEADER = "Charter-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
TOLERANCE_SECONDS = 300
MAX_PAGES = 1_000_000
"""A host that always answers "more" would otherwise keep a sweep going for ever."""


def sign(key: bytes, timestamp: int, body: bytes) -> str:
    """The `Charter-Signature` header value for `body` sent at `timestamp`."""
    digest = hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signature(key: bytes, header: str | None, body: bytes, *, now: float | None = None,
                     tolerance: int = TOLERANCE_SECONDS) -> bool:
    """Whether `header` signs `body` with `key` and was made within `tolerance` seconds of `now`."""
    if not header:
        return False
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        return False
    expected = sign(key, timestamp, body)
    return hmac.compare_digest(expected, f"t={timestamp},v1={parts.get('v1', '')}")


class WebhookConnector(Connector):
    kind = StoreKind.WEBHOOK

    def __init__(self, url: str, signing_key: bytes, *, timeout: float = 10.0,
                 client: httpx.Client | None = None, clock: Callable[[], float] = time.time) -> None:
        self.url = url.rstrip("/")
        self.signing_key = signing_key
        self.client = client or httpx.Client(timeout=timeout)
        self._owns_client = client is None
        self.clock = clock

    def close(self) -> None:
        if self._owns_client:
            self.client.close()

    def test_connection(self) -> ConnectionTest:
        try:
            self._post(self.url, {"operation": "test"}, what="the host")
        except ConnectorError as exc:
            return ConnectionTest(ok=False, message=exc.message)
        return ConnectionTest(ok=True, message=f"the host at {self.url} answered")

    def retrieve(self, spec: CollectionSpec, lookup: Lookup) -> Retrieved:
        if lookup.is_empty:
            return Retrieved(collection=spec.qualified_name)
        answer = self._call(spec, "retrieve", lookup, {"fields": [f.name for f in spec.fields]})
        rows = answer.get("rows")
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise _bad_answer(spec, "retrieve", '{"rows": [{…}, …]}')
        return Retrieved(collection=spec.qualified_name, rows=tuple(rows))

    def erase(self, spec: CollectionSpec, lookup: Lookup) -> ErasureRecord:
        fields = {f.name: f.erasure.strategy for f in spec.fields if f.erasure is not None}
        record = ErasureRecord(collection=spec.qualified_name, fields=fields, held=spec.held)
        if lookup.is_empty or not spec.has_erasure:
            return record
        extra = {"delete_rows": spec.deletes_rows,
                 "fields": [{"name": f.name, **f.erasure.model_dump(mode="json", exclude_none=True)}
                            for f in spec.fields if f.erasure is not None]}
        answer = self._call(spec, "erase", lookup, extra)
        return record.model_copy(update={"rows_deleted": _count(answer, "rows_deleted", spec, "erase"),
                                         "rows_changed": _count(answer, "rows_changed", spec, "erase")})

    def rectify(self, spec: CollectionSpec, lookup: Lookup, field: str, value: Scalar) -> RectifyRecord:
        if lookup.is_empty:
            return RectifyRecord(collection=spec.qualified_name, field=field)
        answer = self._call(spec, "rectify", lookup, {"field": field, "value": value})
        return RectifyRecord(collection=spec.qualified_name, field=field,
                             rows_changed=_count(answer, "rows_changed", spec, "rectify"))

    def expire(self, spec: CollectionSpec, expiry: Expiry, *, dry_run: bool = False) -> Iterator[ErasureRecord]:
        fields = {f.name: f.erasure.strategy for f in spec.fields if f.erasure is not None}
        record = ErasureRecord(collection=spec.qualified_name, fields=fields, held=spec.held)
        if not spec.has_erasure:
            yield record
            return
        keep = {k: list(v) for k, v in expiry.keep.values.items() if v} if expiry.keep is not None else {}
        extra = {"field": expiry.field, "before": expiry.before, "keep": keep, "limit": expiry.chunk_size,
                 "dry_run": dry_run, "delete_rows": spec.deletes_rows,
                 "fields": [{"name": f.name, **f.erasure.model_dump(mode="json", exclude_none=True)}
                            for f in spec.fields if f.erasure is not None]}
        for _page in range(MAX_PAGES):
            answer = self._call(spec, "expire", None, extra)
            yield record.model_copy(update={"rows_deleted": _count(answer, "rows_deleted", spec, "expire"),
                                            "rows_changed": _count(answer, "rows_changed", spec, "expire")})
            if dry_run or answer.get("more") is not True:
                return

    def scan(self, spec: CollectionSpec, scan: Scan) -> Iterator[tuple[Row, ...]]:
        cursor: object = None
        for _page in range(MAX_PAGES):
            answer = self._call(spec, "scan", None, {**scan.model_dump(mode="json"), "cursor": cursor})
            rows = answer.get("rows")
            if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
                raise _bad_answer(spec, "scan", '{"rows": [{…}, …], "cursor": …}')
            if rows:
                yield tuple({f: r.get(f) for f in scan.fields} for r in rows)
            cursor = answer.get("cursor")
            if cursor is None:
                return

    def _call(self, spec: CollectionSpec, operation: str, lookup: Lookup | None,
              extra: Mapping[str, Any]) -> dict[str, Any]:
        body = {"operation": operation, "collection": spec.name, **extra}
        if lookup is not None:
            body["lookup"] = {k: list(v) for k, v in lookup.values.items() if v}
        url = f"{self.url}/{(spec.endpoint or spec.name).lstrip('/')}"
        return self._post(url, body, what=f"the host's endpoint for {spec.qualified_name}")

    def _post(self, url: str, body: Mapping[str, Any], *, what: str) -> dict[str, Any]:
        payload = json.dumps(body, default=_json_default, sort_keys=True, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json",
                   SIGNATURE_HEADER: sign(self.signing_key, int(self.clock()), payload),
                   IDEMPOTENCY_HEADER: hashlib.sha256(payload).hexdigest()}
        try:
            response = self.client.post(url, content=payload, headers=headers)
        except httpx.HTTPError as exc:
            raise ConnectorError(f"cannot reach {what} at {url} ({type(exc).__name__})",
                                 fix="Check the dataset's `connection: url:` and that the host is up.") from None
        if response.status_code == 404:
            raise MissingTable(f"{what} does not exist: {url} answered 404",
                               fix="Correct `endpoint:` in the data map, or add the endpoint to the host.")
        if response.status_code in (401, 403):
            raise ConnectorError(f"{what} refused Charter's signature ({response.status_code})",
                                 fix="Give the host and Charter the same signing key (the dataset's secret).")
        if not response.is_success:
            raise ConnectorError(f"{what} answered {response.status_code}",
                                 fix="See the host's log; the call is safe to repeat.")
        try:
            answer = response.json() if response.content else {}
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise ConnectorError(f"{what} did not answer with a JSON object", fix="Answer with JSON, e.g. {}.")
        return answer


def _count(answer: Mapping[str, Any], name: str, spec: CollectionSpec, operation: str) -> int:
    value = answer.get(name, 0)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise _bad_answer(spec, operation, f'{{"{name}": <count>}}')
    return value


def _bad_answer(spec: CollectionSpec, operation: str, shape: str) -> ConnectorError:
    return ConnectorError(f"the host's answer to {operation} for {spec.qualified_name} is not {shape}",
                          fix="Fix the host's webhook to answer in the documented shape.")


def _json_default(value: object) -> object:
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
