"""CORS for the banner's endpoints, per controller: a browser may call `/v1/banner/{key}/…` only from an origin
the key's controller declared (`charter controller origins add`). Preflights from other origins get 403 and no
CORS headers, and so do the calls themselves, which are refused before they reach a route (a simple POST is not
preflighted, so the refusal has to happen here and not only in the browser)."""

from __future__ import annotations

import json

from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from charter.accounts.services import ApiKeyService, OriginService
from charter.core.errors import CharterError

PREFIX = "/v1/banner/"
_ALLOW_HEADERS = "content-type, x-request-id"


def _controller_allowing(sessions: sessionmaker[Session], key: str, origin: str | None) -> tuple[bool, bool]:
    """(the key is valid, the origin is allowed for its controller)."""
    with sessions() as session:
        try:
            principal = ApiKeyService(session).authenticate(key)
        except CharterError:
            return False, False
        return True, OriginService(session).is_allowed(principal.controller_id, origin)


class BannerCors:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        key = scope["path"][len(PREFIX):].split("/", 1)[0]
        sessions = scope["app"].state.sessions
        is_key, allowed = await run_in_threadpool(_controller_allowing, sessions, key, origin)
        is_preflight = scope["method"] == "OPTIONS" and "access-control-request-method" in headers
        if not is_key and not is_preflight:
            await self.app(scope, receive, send)  # the route answers 401 for the key
            return
        if not allowed or origin is None:
            await _refuse(send, origin)
            return
        if is_preflight:
            await _preflight(send, origin)
            return

        async def with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                out["Access-Control-Allow-Origin"] = origin
                out.add_vary_header("Origin")
            await send(message)

        await self.app(scope, receive, with_cors)


async def _refuse(send: Send, origin: str | None) -> None:
    body = json.dumps({"error": {
        "code": "forbidden", "field": "origin",
        "message": f"the origin {origin or '(none)'} may not call this controller's banner API",
        "fix": "Declare it with `charter controller origins add --controller ID ORIGIN`."}}).encode()
    await send({"type": "http.response.start", "status": 403,
                "headers": [(b"content-type", b"application/json"), (b"vary", b"Origin")]})
    await send({"type": "http.response.body", "body": body})


async def _preflight(send: Send, origin: str) -> None:
    await send({"type": "http.response.start", "status": 204, "headers": [
        (b"access-control-allow-origin", origin.encode()), (b"access-control-allow-methods", b"POST"),
        (b"access-control-allow-headers", _ALLOW_HEADERS.encode()), (b"access-control-max-age", b"600"),
        (b"vary", b"Origin")]})
    await send({"type": "http.response.body", "body": b""})
