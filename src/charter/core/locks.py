"""The controller lock: one per tenant, taken before anything that extends a chain or must not race."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from charter.core.models import Controller


def lock_controller(session: Session, controller_id: str) -> bool:
    """Hold the controller's lock until the transaction ends; False when there is no such controller.

    PostgreSQL and MariaDB lock the row (`SELECT … FOR UPDATE`). SQLite has no row locks and starts its
    transactions lazily, so a read there may see a chain head another writer is about to move: a no-op UPDATE
    first takes SQLite's write lock, and everything read after it stays current until commit.
    """
    if session.get_bind().dialect.name == "sqlite":
        session.execute(update(Controller).where(Controller.id == controller_id)
                        .values(audit_head_seq=Controller.audit_head_seq)
                        .execution_options(synchronize_session=False))
    found = session.execute(select(Controller.id).where(Controller.id == controller_id).with_for_update())
    return found.scalar_one_or_none() is not None
