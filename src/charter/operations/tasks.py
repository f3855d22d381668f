"""Notices that fall due, checked on a schedule: compelled disclosures whose restriction has ended, policy changes
to announce, and policy changes reaching their effective date. `charter serve` runs `run_due_notices` in-process;
`charter worker` calls `run_due_notices_task`. Running it twice does no harm: each notice is queued once."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from charter.core.crypto import Keyring, load_keyring
from charter.core.db import make_engine, session_factory, transaction
from charter.core.settings import Settings, load_settings
from charter.migrations import ensure_current
from charter.operations.changes import PolicyChanges, Renewal, no_renewal
from charter.operations.disclosure import Disclosures

__all__ = ["DueNotices", "run_due_notices", "run_due_notices_task"]

SCHEDULER_ACTOR = "scheduler"


@dataclass(frozen=True)
class DueNotices:
    disclosures: int
    changes_notified: int
    changes_effective: int


def run_due_notices(sessions: sessionmaker[Session], keyring: Keyring, *, base_url: str,
                    renew: Renewal = no_renewal) -> DueNotices:
    with transaction(sessions) as session:
        released = Disclosures(session, keyring).release_due(actor=SCHEDULER_ACTOR)
    with transaction(sessions) as session:
        changes = PolicyChanges(session, keyring, base_url=base_url, renew=renew)
        notified = changes.notify_due(actor=SCHEDULER_ACTOR)
    with transaction(sessions) as session:
        changes = PolicyChanges(session, keyring, base_url=base_url, renew=renew)
        effective = changes.apply_due(actor=SCHEDULER_ACTOR)
    return DueNotices(len(released), len(notified), len(effective))


def run_due_notices_task(settings: Settings | None = None) -> dict[str, int]:
    """The worker's task, with settings from the environment."""
    settings = settings or load_settings()
    engine = make_engine(settings.database_url)
    try:
        ensure_current(engine)
        done = run_due_notices(session_factory(engine), load_keyring(settings), base_url=settings.base_url)
    finally:
        engine.dispose()
    return {"disclosures": done.disclosures, "changes_notified": done.changes_notified,
            "changes_effective": done.changes_effective}
