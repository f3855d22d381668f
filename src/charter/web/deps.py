"""Request-scoped dependencies: one database transaction per request, the caller's API key, the keyring."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from charter.accounts.models import KeyKind
from charter.accounts.services import ApiKeyService, ApiPrincipal, collection_stopped
from charter.core.crypto import Keyring
from charter.core.errors import Forbidden, Unauthorized
from charter.decisions.decider import Decider
from charter.outbox import BackgroundSender, Outbox


def get_session(request: Request) -> Iterator[Session]:
    """The request owns the transaction: commit on success, roll back on any error."""
    factory: sessionmaker[Session] = request.app.state.sessions
    with factory() as session, session.begin():
        yield session


# Function scope: the transaction commits before the response is sent, so a client that got a 2xx can rely on
# the change (and an in-process decider has been told of it) in its very next request.
DbSession = Annotated[Session, Depends(get_session, scope="function")]
PageSession = DbSession
"""For pages: the transaction ends before the response leaves, so a page never shows what was then not stored."""


def get_keyring(request: Request) -> Keyring:
    keyring: Keyring = request.app.state.keyring
    return keyring


def get_outbox(request: Request, session: DbSession) -> Outbox:
    """The outbox in the request's transaction; a committed message wakes the in-process sender."""
    sender: BackgroundSender | None = request.app.state.outbox_sender
    return Outbox(session, get_keyring(request), notify=sender.wake if sender else None)


RequestOutbox = Annotated[Outbox, Depends(get_outbox)]


def _principal(session: DbSession, authorization: Annotated[str | None, Header()] = None) -> ApiPrincipal:
    if not authorization or not authorization.lower().startswith("bearer "):
        raise Unauthorized("no API key was sent",
                           fix="Send `Authorization: Bearer <key>` with a key from `charter keys create`.")
    return ApiKeyService(session).authenticate(authorization[7:].strip())


def secret_key(principal: Annotated[ApiPrincipal, Depends(_principal)]) -> ApiPrincipal:
    if principal.kind is not KeyKind.SECRET:
        raise Forbidden("a publishable key cannot call this endpoint",
                        fix="Use the controller's secret key, from your server only.")
    return principal


def any_key(principal: Annotated[ApiPrincipal, Depends(_principal)]) -> ApiPrincipal:
    return principal


SecretKey = Annotated[ApiPrincipal, Depends(secret_key)]
AnyKey = Annotated[ApiPrincipal, Depends(any_key)]


class KeyCache:
    """API keys authenticated in the last `ttl` seconds, so the decision endpoint needs no database round trip.

    Keyed by a digest of the whole bearer token; a revoked key stops working within `ttl` seconds.
    """

    def __init__(self, sessions: sessionmaker[Session], ttl: float = 10.0) -> None:
        self.sessions = sessions
        self.ttl = ttl
        self._known: dict[str, tuple[ApiPrincipal, float]] = {}

    @staticmethod
    def _token(authorization: str | None) -> str:
        if not authorization or not authorization.lower().startswith("bearer "):
            raise Unauthorized("no API key was sent",
                               fix="Send `Authorization: Bearer <key>` with a key from `charter keys create`.")
        return authorization[7:].strip()

    def cached(self, authorization: str | None) -> ApiPrincipal | None:
        digest = hashlib.sha256(self._token(authorization).encode()).hexdigest()
        hit = self._known.get(digest)
        return hit[0] if hit is not None and time.monotonic() < hit[1] else None

    def authenticate(self, authorization: str | None) -> ApiPrincipal:
        token = self._token(authorization)
        with self.sessions() as session:
            principal = ApiKeyService(session).authenticate(token)
        if len(self._known) > 10_000:
            self._known.clear()
        self._known[hashlib.sha256(token.encode()).hexdigest()] = (principal, time.monotonic() + self.ttl)
        return principal


async def cached_secret_key(request: Request) -> ApiPrincipal:
    """The caller's secret key, from the cache when it was seen in the last seconds."""
    keys: KeyCache = request.app.state.keys
    authorization = request.headers.get("authorization")
    principal = keys.cached(authorization)
    if principal is None:
        principal = await run_in_threadpool(keys.authenticate, authorization)
    return secret_key(principal)


def collecting(principal: ApiPrincipal) -> ApiPrincipal:
    """The principal, unless its controller has ceased operations (LUB-SHUTDOWN): then a 409 saying so."""
    if not principal.is_collecting:
        raise collection_stopped(principal.controller_id)
    return principal


def collecting_secret_key(principal: Annotated[ApiPrincipal, Depends(secret_key)]) -> ApiPrincipal:
    return collecting(principal)


CollectingKey = Annotated[ApiPrincipal, Depends(collecting_secret_key)]


def get_decider(request: Request) -> Decider:
    decider: Decider = request.app.state.decider
    return decider


DeciderDep = Annotated[Decider, Depends(get_decider)]
KeyringDep = Annotated[Keyring, Depends(get_keyring)]
