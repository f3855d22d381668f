"""`python -m lubpur serve --port 8100`, `python -m lubpur seed`, `python -m lubpur newsletter`."""

from __future__ import annotations

import argparse
import os
import secrets
import sys

import uvicorn
from sqlalchemy import select
from sqlalchemy.orm import Session

from lubpur import accounts
from lubpur.catalogue.services import seed_catalogue
from lubpur.db import make_engine, session_factory, unit_of_work
from lubpur.models import Staff, User
from lubpur.policy import load_policy
from lubpur.privacy import Evidence, LocalPrivacy
from lubpur.schema import create_schema
from lubpur.security import hash_password
from lubpur.settings import Settings
from lubpur.web.app import create_app

DEMO_STAFF_EMAIL = "service@lubpur.com"
DEMO_USER_EMAIL = "wang.gong@example.com"
DEMO_USER_PHONE = "+8613900139000"


def seed(settings: Settings) -> str:
    """Tables, search index, catalogue and the customer-service account; returns what to tell the operator."""
    engine = make_engine(settings.database_url)
    create_schema(engine)
    lines = []
    with unit_of_work(session_factory(engine)) as session:
        count = seed_catalogue(session)
        lines.append(f"catalogue: {count} products")
        if session.scalars(select(Staff).where(Staff.email == DEMO_STAFF_EMAIL)).first() is None:
            password = os.environ.get("LUBPUR_STAFF_PASSWORD") or secrets.token_urlsafe(12)
            session.add(Staff(email=DEMO_STAFF_EMAIL, name="客服小润 Runrun", password_hash=hash_password(password)))
            lines.append(f"staff login: {DEMO_STAFF_EMAIL} / {password}  ({settings.base_url}/staff/login)")
        else:
            lines.append(f"staff login: {DEMO_STAFF_EMAIL} (exists; password unchanged)")
        demo_password = os.environ.get("LUBPUR_DEMO_USER_PASSWORD")
        if demo_password:
            lines.append(_demo_user(session, settings, demo_password))
    engine.dispose()
    return "\n".join(lines)


def _demo_user(session: Session, settings: Settings, password: str) -> str:
    """A registered customer, through the same code as the form. Its acceptance and choices wait in
    `consent_choices`/`charter_reports` and reach Charter when the connected server starts."""
    if session.scalars(select(User.id).where(User.email == DEMO_USER_EMAIL)).first() is None:
        policy = load_policy(settings.policy_file)
        form = accounts.Registration(
            email=DEMO_USER_EMAIL, phone=DEMO_USER_PHONE, password=password, name="王工", company="上海某机械有限公司",
            birth_date="1986-04-12", policy_version=policy.version, is_policy_accepted=True,
            wants_personalisation=True)
        accounts.register(session, LocalPrivacy(session, settings, policy), form,
                          Evidence(method="registration_form", ip="127.0.0.1", user_agent="charter demo"),
                          settings.base_url)
    return f"demo user: {DEMO_USER_EMAIL} / {password}  ({settings.base_url}/login)"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m lubpur", description="Lubpur 超润 reference platform")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the web server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8100)
    sub.add_parser("seed", help="create tables, the catalogue and the staff account")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    if args.command == "seed":
        sys.stdout.write(seed(settings) + "\n")
        return
    uvicorn.run(create_app(settings), host=args.host, port=args.port)
