"""Notices that fall due, checked on a schedule: compelled disclosures whose restriction has ended, policy changes
to announce, and policy changes reaching their effective date. `charter serve` runs `run_due_notices` in-process;
`charter worker` runs it too when a broker is configured. Running it twice does no harm: each notice is queued
once. Each item is its own transaction, so one that fails (a store down, a key missing) holds up no other."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from charter.core.crypto import Keyring, load_keyring
from charter.core.db import make_engine, session_factory, transaction, utcnow
from charter.core.settings import Settings, load_settings
from charter.migrations import ensure_current
from charter.operations.changes import PolicyChanges
from charter.operations.disclosure import Disclosures
from charter.operations.models import ChangeStatus, CompelledDisclosure, PolicyChange

__all__ = ["DueNotices", "run_due_notices", "run_due_notices_task"]

SCHEDULER_ACTOR = "scheduler"
log = logging.getLogger(__name__)


@dataclass
class DueNotices:
    disclosures: int = 0
    changes_notified: int = 0
    changes_effective: int = 0
    failed: int = 0


def _due(session: Session, controller_id: str | None) -> tuple[list[str], list[str], list[str]]:
    now = utcnow()
    disclosures = select(CompelledDisclosure.controller_id).where(
        CompelledDisclosure.notified_at.is_(None), CompelledDisclosure.restricted_until <= now)
    scheduled = select(PolicyChange.controller_id).where(PolicyChange.status == ChangeStatus.SCHEDULED.value)
    effective = select(PolicyChange.controller_id).where(PolicyChange.status == ChangeStatus.NOTIFIED.value,
                                                         PolicyChange.effective <= now.date())
    if controller_id is not None:
        disclosures = disclosures.where(CompelledDisclosure.controller_id == controller_id)
        scheduled = scheduled.where(PolicyChange.controller_id == controller_id)
        effective = effective.where(PolicyChange.controller_id == controller_id)
    ids = [sorted(set(session.execute(q).scalars())) for q in (disclosures, scheduled, effective)]
    return ids[0], ids[1], ids[2]


def run_due_notices(sessions: sessionmaker[Session], keyring: Keyring, *, base_url: str,
                    controller_id: str | None = None) -> DueNotices:
    """Everything due now, of every controller (or one), controller by controller."""
    with transaction(sessions) as session:
        disclosures, scheduled, effective = _due(session, controller_id)
    done = DueNotices()

    def each(ids: list[str], step: Callable[[Session, str], int], field: str) -> None:
        for cid in ids:
            try:
                with transaction(sessions) as session:
                    setattr(done, field, getattr(done, field) + step(session, cid))
            except Exception:
                # One controller's failure (a key, a store, a template) must not hold up the others' notices.
                log.exception("due notices of controller %s failed (%s)", cid, field)
                done.failed += 1

    each(disclosures, lambda s, cid: len(Disclosures(s, keyring).release_due(actor=SCHEDULER_ACTOR,
                                                                               controller_id=cid)), "disclosures")
    each(scheduled, lambda s, cid: len(PolicyChanges(s, keyring, base_url=base_url).notify_due(
        actor=SCHEDULER_ACTOR, controller_id=cid)), "changes_notified")
    each(effective, lambda s, cid: len(PolicyChanges(s, keyring, base_url=base_url).apply_due(
        actor=SCHEDULER_ACTOR, controller_id=cid)), "changes_effective")
    return done


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
            "changes_effective": done.changes_effective, "failed": done.failed}
