"""Factories: each test builds just what it needs, in its own controller."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.orm import Session, sessionmaker

from charter.accounts import totp
from charter.accounts.services import ApiKeyService, ControllerService, StaffService
from charter.policy.services import PolicyStore


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


MINIMAL_POLICY = Path(__file__).parent / "policy" / "fixtures" / "minimal.yaml"


def policy_text(controller_id: str, version: str = "1.0", *, extra_purpose: bool = False,
                effective: str = "2024-01-01") -> str:
    """The minimal valid policy, for `controller_id`, optionally with one more consent-based purpose."""
    doc: dict[str, Any] = yaml.safe_load(MINIMAL_POLICY.read_text(encoding="utf-8"))
    doc["controller"]["id"] = controller_id
    doc["version"] = version
    doc["effective"] = effective
    if extra_purpose:
        doc["purposes"].append({
            "id": "surveys", "label": {"zh": "问卷", "en": "Surveys"},
            "description": {"zh": "邀请您参加问卷调查", "en": "Invite you to surveys"},
            "legal_basis": "consent", "is_essential": False, "consent": "general",
            "categories": ["contact.email"],
            "retention": {"days": 180, "text": {"zh": "六个月", "en": "Six months"}},
        })
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


@dataclass(frozen=True)
class StaffAccount:
    controller_id: str
    id: int
    email: str
    password: str
    role: str
    totp_secret: str | None


def make_staff(sessions: sessionmaker[Session], controller_id: str, role: str = "admin", *,
               enrolled: bool = True) -> StaffAccount:
    """A committed staff account with a known password and, when `enrolled`, a known TOTP secret."""
    email, password = f"{uuid.uuid4().hex[:8]}@staff.example", "correct horse battery"
    secret = totp.new_secret() if enrolled else None
    with sessions() as session, session.begin():
        user = StaffService(session).create(controller_id, email, password, role, actor="test")
        user.totp_secret = secret
        staff_id = user.id
    return StaffAccount(controller_id, staff_id, email, password, role, secret)


def publish_policy(sessions: sessionmaker[Session], controller_id: str, version: str = "1.0", *,
                   extra_purpose: bool = False, effective: str = "2024-01-01") -> None:
    with sessions() as session, session.begin():
        PolicyStore(session).publish(controller_id, policy_text(controller_id, version, extra_purpose=extra_purpose,
                                                                effective=effective), source="test", actor="test")
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def example_policy_text(controller_id: str, which: str = "lubpur", *, version: str | None = None,
                        effective: str | None = None, edit: Any = None) -> str:
    """An example policy (lubpur or landups) for `controller_id`; `edit(doc)` may change the parsed document."""
    doc: dict[str, Any] = yaml.safe_load((EXAMPLES / which / "policy.yaml").read_text(encoding="utf-8"))
    doc["controller"]["id"] = controller_id
    if version is not None:
        doc["version"] = version
    if effective is not None:
        doc["effective"] = effective
    if edit is not None:
        edit(doc)
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


def publish(client: Any, tenant: Tenant, text: str) -> dict[str, Any]:
    r = client.post("/v1/policies", content=text.encode(),
                    headers={**tenant.headers, "Content-Type": "application/yaml"})
    assert r.status_code in (200, 201), r.text
    body: dict[str, Any] = r.json()
    return body


def register(client: Any, tenant: Tenant, *, email: str | None = None, **extra: Any) -> str:
    """A registered subject's id (a fresh email unless one is given)."""
    body = {"identities": [{"kind": "email", "value": email or f"p{uuid.uuid4().hex[:10]}@example.com"}], **extra}
    r = client.post("/v1/subjects", json=body, headers=tenant.headers)
    assert r.status_code in (200, 201), r.text
    subject_id: str = r.json()["subject_id"]
    return subject_id
