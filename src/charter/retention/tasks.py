"""Background work: the scheduled sweep. `charter serve` runs it in-process (`charter.core.periodic`); a separate
`charter worker` calls `run_retention_sweep`, which reads its settings from the environment. Running it twice does
no harm: the second run finds nothing left to erase."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from charter.core.crypto import Keyring, load_keyring
from charter.core.db import make_engine, session_factory
from charter.core.secrets import Secrets
from charter.core.settings import Settings, load_settings
from charter.migrations import ensure_current
from charter.retention.sweep import RetentionSweep, SweepReport

__all__ = ["run_retention_sweep", "sweep_every_controller"]


def sweep_every_controller(sessions: sessionmaker[Session], keyring: Keyring, secrets: Secrets) -> list[SweepReport]:
    return RetentionSweep(sessions, keyring, secrets).run_all()


def run_retention_sweep(controller_id: str | None = None, settings: Settings | None = None) -> list[dict[str, object]]:
    """The worker's task: sweep one controller (or all) and return each run's totals (ids and counts only)."""
    settings = settings or load_settings()
    engine = make_engine(settings.database_url)
    try:
        ensure_current(engine)
        sweep = RetentionSweep(session_factory(engine), load_keyring(settings), Secrets.from_environment())
        reports = [sweep.run(controller_id)] if controller_id else sweep.run_all()
    finally:
        engine.dispose()
    return [{"run_id": r.run_id, "controller_id": r.controller_id, "rows_deleted": r.rows_deleted,
             "rows_changed": r.rows_changed, "errors": r.errors} for r in reports]
