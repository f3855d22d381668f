"""Request-scoped dependencies: one database transaction per request, the caller's API key, the keyring."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.orm import Session, sessionmaker

from charter.accounts.models import KeyKind
from charter.accounts.services import ApiKeyService, ApiPrincipal
from charter.core.crypto import Keyring
from charter.core.errors import Forbidden, Unauthorized
from charter.outbox import BackgroundSender, Outbox


def get_session(request: Request) -> Iterator[Session]:
    """The request owns the transaction: commit on success, roll back on any error."""
    factory: sessionmaker[Session] = request.app.state.sessions
    with factory() as session, session.begin():
        yield session


DbSession = Annotated[Session, Depends(get_session)]
PageSession = Annotated[Session, Depends(get_session, scope="function")]
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
