"""What `python -m landups` runs."""

from __future__ import annotations

import secrets
import time

import uvicorn
from sqlalchemy import select

from landups.accounts import AccountService, Registration
from landups.db import unit_of_work
from landups.forms import Form
from landups.i18n import Lang
from landups.links import LinkService
from landups.models import IdPhoto, SiteAccount, StaffMember, User
from landups.privacy import deliver_pending, pending_calls
from landups.settings import Settings
from landups.staffdesk import StaffService
from landups.web.app import build_state, create_app

ORPHAN_AGE_SECONDS = 3600   # a file younger than this may belong to a request still in flight


def serve(host: str, port: int) -> int:
    uvicorn.run(create_app(Settings.from_env()), host=host, port=port, log_level="info")
    return 0


def seed() -> int:
    """Demo data, created once: a support staff member, a landups.com account and a demo user."""
    state = build_state(Settings.from_env())
    made: list[tuple[str, str, str]] = []
    with unit_of_work(state.factory) as session:
        if session.scalar(select(StaffMember.id).where(StaffMember.email == "support@landups.example")) is None:
            password = secrets.token_urlsafe(12)
            StaffService(session).create("support@landups.example", "Support", password)
            made.append(("staff (/staff/login)", "support@landups.example", password))
        if session.scalar(select(SiteAccount.id).where(SiteAccount.username == "demo_site")) is None:
            password = secrets.token_urlsafe(12)
            LinkService(session).create_site_account(Form(fields={
                "username": "demo_site", "email": "demo@landups.example", "password": password}))
            made.append(("landups.com account", "demo_site", password))
        if session.scalar(select(User.id).where(User.email == "demo@landups.example")) is None:
            password = secrets.token_urlsafe(12)
            AccountService(session).register(Registration(
                email="demo@landups.example", password=password, name="陳大文", phone="+85291234567",
                account_type="personal", language=Lang.ZH_TW, choices={}), policy_version=state.policy.version)
            made.append(("console user (/login)", "demo@landups.example", password))
    print(f"Landups database: {state.settings.database_url}")  # noqa: T201 - CLI output
    for role, login, password in made:
        print(f"  {role}: {login} / {password}")  # noqa: T201 - shown once, as `charter demo` does
    if not made:
        print("  already seeded; nothing created")  # noqa: T201
    state.engine.dispose()
    return 0


def sweep_files() -> int:
    """Remove sealed photo files that no `id_photos` row names (left by a rolled-back request or an erasure)."""
    state = build_state(Settings.from_env())
    with unit_of_work(state.factory) as session:
        known = set(session.scalars(select(IdPhoto.stored_name)))
    removed = 0
    for name in state.vault.stored_names() - known:
        path = state.vault.path(name)
        if time.time() - path.stat().st_mtime > ORPHAN_AGE_SECONDS:
            state.vault.delete(name)
            removed += 1
    print(f"removed {removed} orphaned photo file(s)")  # noqa: T201
    state.engine.dispose()
    return 0


def deliver() -> int:
    state = build_state(Settings.from_env())
    sent = deliver_pending(state.factory, state.gateway)
    with unit_of_work(state.factory) as session:
        waiting = len(list(pending_calls(session, limit=100_000)))
    if not state.gateway.is_connected:
        print(f"Charter is not wired yet: {waiting} report(s) waiting")  # noqa: T201
    else:
        print(f"delivered {sent}; {waiting} waiting")  # noqa: T201
    state.engine.dispose()
    return 0
