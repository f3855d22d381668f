"""Request-scoped dependencies: one database transaction per request, and the caller's API key."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.orm import Session, sessionmaker

from charter.accounts.models import KeyKind
from charter.accounts.services import ApiKeyService, ApiPrincipal
from charter.core.crypto import Keyring
from charter.core.errors import Forbidden, Unauthorized


def get_session(request: Request) -> Iterator[Session]:
    """The request owns the transaction: commit on success, roll back on any error."""
    factory: sessionmaker[Session] = request.app.state.sessions
    with factory() as session, session.begin():
        yield session


# Function scope: the transaction commits before the response is sent, so a client that got a 2xx can rely on
# the change (and an in-process decider has been told of it) in its very next request.
DbSession = Annotated[Session, Depends(get_session, scope="function")]


def get_keyring(request: Request) -> Keyring:
    keyring: Keyring = request.app.state.keyring
    return keyring


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
