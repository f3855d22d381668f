"""Helpers that drive the app through HTTP, as a person would."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lubpur.models import Staff, User
from lubpur.policy import load_policy
from lubpur.security import hash_password
from lubpur.settings import POLICY_FILE

POLICY_VERSION = load_policy(POLICY_FILE).version
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_counter = iter(range(10_000_000))


def csrf(client: TestClient, path: str = "/register") -> str:
    match = _CSRF.search(client.get(path).text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def unique_phone() -> str:
    # 139 + 8 digits: valid mainland mobile numbers, unique within a run.
    return f"+86139{(uuid.uuid4().int + next(_counter)) % 100_000_000:08d}"


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


def adult_birth_date() -> str:
    return dt.date(1988, 6, 1).isoformat()


def minor_birth_date() -> str:
    today = dt.date.today()
    return today.replace(year=today.year - 10).isoformat() if not (today.month == 2 and today.day == 29) \
        else dt.date(today.year - 10, 2, 28).isoformat()


def registration(**overrides: str) -> dict[str, str]:
    form = {"email": unique_email(), "phone": unique_phone(), "password": "Lubric4nt-pass", "name": "王工",
            "company": "上海某机械有限公司", "birth_date": adult_birth_date(), "policy_version": POLICY_VERSION,
            "accept_policy": "yes"}
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


def register(client: TestClient, **overrides: str) -> dict[str, str]:
    form = registration(**overrides)
    response = client.post("/register", data={"csrf": csrf(client), **form})
    assert response.status_code == 200, response.text
    assert response.url.path == "/me"
    return form


def post(client: TestClient, path: str, data: dict[str, Any] | None = None, *, csrf_from: str = "/me",
         **kwargs: Any) -> Response:
    return client.post(path, data={"csrf": csrf(client, csrf_from), **(data or {})}, **kwargs)


def make_staff(session: Session, password: str = "Staff-pass-2023") -> tuple[str, str]:  # noqa: S107 - test secret
    address = unique_email("staff")
    session.add(Staff(email=address, name="客服小润", password_hash=hash_password(password)))
    session.commit()
    return address, password


def staff_login(client: TestClient, session: Session) -> None:
    address, password = make_staff(session)
    response = client.post("/staff/login", data={"csrf": csrf(client, "/staff/login"), "email": address,
                                                 "password": password})
    assert response.url.path == "/staff", response.text


def user_by_email(session: Session, address: str) -> User:
    session.expire_all()
    return session.scalars(select(User).where(User.email == address)).one()


def count(session: Session, model: type[Any], *where: Any) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0
