"""What `python -m landups` runs."""

from __future__ import annotations

import os
import time

import uvicorn
from sqlalchemy import select

from landups import demo
from landups.db import unit_of_work
from landups.models import IdPhoto
from landups.privacy import deliver_pending, pending_calls
from landups.settings import Settings
from landups.web.app import build_state, create_app

ORPHAN_AGE_SECONDS = 3600   # a file younger than this may belong to a request still in flight


def serve(host: str, port: int) -> int:
    uvicorn.run(create_app(Settings.from_env()), host=host, port=port, log_level="info")
    return 0


def seed() -> int:
    """Demo data, created once (`landups.demo`): a support staff member, a landups.com account and a demo user;
    `LANDUPS_STAFF_PASSWORD` and `LANDUPS_DEMO_USER_PASSWORD` choose their passwords (`charter demo` sets them)."""
    lines = demo.seed(Settings.from_env(), staff_password=os.environ.get("LANDUPS_STAFF_PASSWORD") or None,
                      user_password=os.environ.get("LANDUPS_DEMO_USER_PASSWORD") or None)
    print("\n".join(lines))  # noqa: T201 - CLI output; passwords shown once, as `charter demo` does
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
