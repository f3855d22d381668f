"""The periodic jobs `charter serve` runs in-process when `CHARTER_SCHEDULER` is on (the default): retention sweeps
of every controller, and notices that fall due. `charter worker` runs the same functions from its own process."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from charter.core.crypto import Keyring
from charter.core.periodic import Job, PeriodicJobs
from charter.core.secrets import Secrets
from charter.core.settings import Settings
from charter.operations.tasks import run_due_notices
from charter.retention.tasks import sweep_every_controller


def periodic_jobs(settings: Settings, sessions: sessionmaker[Session], keyring: Keyring) -> PeriodicJobs:
    secrets = Secrets.from_environment()
    return PeriodicJobs([
        Job("retention", settings.retention_interval, lambda: sweep_every_controller(sessions, keyring, secrets)),
        Job("notices", settings.notices_interval,
            lambda: run_due_notices(sessions, keyring, base_url=settings.base_url)),
    ])
