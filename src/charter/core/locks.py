"""The controller lock: one per tenant, taken before anything that extends a chain or must not race.

PostgreSQL takes it as `FOR NO KEY UPDATE`: it excludes every other holder of the lock as `FOR UPDATE` would, but
not the `FOR KEY SHARE` locks a foreign-key check takes on the controller row when a row referencing it is
inserted. With `FOR UPDATE`, two transactions that had each inserted such a row (a request, a held item) and then
asked for the lock waited for each other: a deadlock.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from charter.core.models import Controller

_SQLITE_LOCKED = "charter.sqlite_write_lock"


def _sqlite_write_lock(session: Session, controller_id: str) -> None:
    """SQLite: a no-op UPDATE takes the database's write lock, held until the transaction ends (a savepoint's
    rollback keeps it), so once per transaction is enough."""
    if session.get_bind().dialect.name != "sqlite":
        return
    transaction = session.get_transaction()
    if transaction is not None and session.info.get(_SQLITE_LOCKED) is transaction:
        return
    session.execute(update(Controller).where(Controller.id == controller_id)
                    .values(audit_head_seq=Controller.audit_head_seq)
                    .execution_options(synchronize_session=False))
    session.info[_SQLITE_LOCKED] = session.get_transaction()


def lock_controller(session: Session, controller_id: str) -> bool:
    """Hold the controller's lock until the transaction ends; False when there is no such controller.

    PostgreSQL and MariaDB lock the row (`SELECT … FOR NO KEY UPDATE` / `FOR UPDATE`). SQLite has no row locks
    and starts its transactions lazily, so a read there may see a chain head another writer is about to move: a
    no-op UPDATE first takes SQLite's write lock, and everything read after it stays current until commit.
    """
    _sqlite_write_lock(session, controller_id)
    found = session.execute(select(Controller.id).where(Controller.id == controller_id)
                            .with_for_update(key_share=True))
    return found.scalar_one_or_none() is not None


def locked_controller(session: Session, controller_id: str) -> Controller | None:
    """`lock_controller` and the row itself, read fresh under the lock, in one statement where rows are locked.

    populate_existing: a Controller loaded earlier in the session (a page's sign-in check) would otherwise be
    handed back as it was, with a stale chain head."""
    _sqlite_write_lock(session, controller_id)
    return session.execute(select(Controller).where(Controller.id == controller_id).with_for_update(key_share=True)
                           .execution_options(populate_existing=True)).scalar_one_or_none()
