"""Factories: each test builds just what it needs, in its own controller."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from charter.accounts.services import ApiKeyService, ControllerService


def new_controller_id(prefix: str = "t") -> str:
    return f"{prefix}{uuid.uuid4().hex[:12]}"


def make_controller(session: Session, name: str = "Test Co") -> str:
    cid = new_controller_id()
    ControllerService(session).create(cid, name, actor="test")
    return cid


@dataclass(frozen=True)
class Tenant:
    controller_id: str
    secret: str
    publishable: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}"}


def make_tenant(sessions: sessionmaker[Session]) -> Tenant:
    """A committed controller with a secret and a publishable API key."""
    with sessions() as session, session.begin():
        cid = make_controller(session)
        keys = ApiKeyService(session)
        secret = keys.create(cid, "server", "secret", actor="test").token
        publishable = keys.create(cid, "banner", "publishable", actor="test").token
    return Tenant(cid, secret, publishable)
