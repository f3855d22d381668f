"""The controller lock: one per tenant, taken before anything that extends a chain or must not race.

PostgreSQL takes it as `FOR NO KEY UPDATE`: it excludes every other holder of the lock as `FOR UPDATE` would, but
not the `FOR KEY SHARE` locks a foreign-key check takes on the controller row when a row referencing it is
inserted. With `FOR UPDATE`, two transactions that had each inserted such a row (a request, a held item) and then
asked for the lock waited for each other: a deadlock.
"""

from __future__ import annotations

from typing import NamedTuple, cast

from sqlalchemy import BindParameter, Table, bindparam, event, inspect, select, update
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from charter.core.models import Controller

_SQLITE_LOCKED = "charter.sqlite_write_lock"
_FRESH = "charter.controller_fresh"
_MOVED = "charter.controller_head_moved"
_HEAD = frozenset({"audit_head_seq", "audit_head_hash"})


class _Fresh(NamedTuple):
    """The controller row a transaction read under its lock, and the audit head it read or wrote itself since.
    Holding the row keeps it in the session's identity map (which holds rows weakly) for the rest of the
    transaction: what reads it later (the outbox, for the controller's name) finds it without a statement."""

    transaction: SessionTransaction
    controller: Controller
    seq: int
    hash: str


def _innermost(session: Session) -> SessionTransaction | None:
    return session.get_nested_transaction() or session.get_transaction()


def _holds(session: Session, transaction: SessionTransaction) -> bool:
    """`transaction` is the session's innermost transaction or encloses it, so what it locked is still locked: a
    savepoint rolled back releases the row locks taken in it, and one that ended either way is out of the chain."""
    return _encloses(transaction, _innermost(session))


def _encloses(outer: SessionTransaction, inner: SessionTransaction | None) -> bool:
    """`inner` is `outer` or a savepoint begun inside it (`inner` may have ended)."""
    while inner is not None:
        if inner is outer:
            return True
        inner = inner.parent
    return False


def _needs_sqlite_write_lock(session: Session) -> bool:
    if session.get_bind().dialect.name != "sqlite":
        return False
    transaction = session.get_transaction()
    return transaction is None or session.info.get(_SQLITE_LOCKED) is not transaction


# Built once: building a statement costs about as much as SQLite running it.
_ID: BindParameter[str] = bindparam("controller_id")
# The no-op UPDATE that takes SQLite's write lock, held until the transaction ends (a savepoint's rollback keeps it):
# once per transaction is enough.
_TOUCH = (update(Controller).where(Controller.id == _ID).values(audit_head_seq=Controller.audit_head_seq)
          .execution_options(synchronize_session=False))
_TOUCH_AND_READ = _TOUCH.returning(Controller).execution_options(populate_existing=True)
_LOCK = select(Controller.id).where(Controller.id == _ID).with_for_update(key_share=True)
_LOCK_AND_READ = (select(Controller).where(Controller.id == _ID).with_for_update(key_share=True)
                  .execution_options(populate_existing=True))
_CONTROLLERS = cast(Table, Controller.__table__)
_MOVE_HEAD = update(_CONTROLLERS).where(_CONTROLLERS.c.id == _ID).values(
    audit_head_seq=bindparam("seq"), audit_head_hash=bindparam("hash"))


def lock_controller(session: Session, controller_id: str) -> bool:
    """Hold the controller's lock until the transaction ends; False when there is no such controller.

    PostgreSQL and MariaDB lock the row (`SELECT … FOR NO KEY UPDATE` / `FOR UPDATE`). SQLite has no row locks
    and starts its transactions lazily, so a read there may see a chain head another writer is about to move: a
    no-op UPDATE first takes SQLite's write lock, and everything read after it stays current until commit.
    """
    if _needs_sqlite_write_lock(session):
        session.execute(_TOUCH, {"controller_id": controller_id})
        session.info[_SQLITE_LOCKED] = session.get_transaction()
    return session.execute(_LOCK, {"controller_id": controller_id}).scalar_one_or_none() is not None


def locked_controller(session: Session, controller_id: str) -> Controller | None:
    """`lock_controller` and the row itself, read fresh under the lock, in one statement where rows are locked
    (SQLite: the no-op UPDATE returns it, the first time in a transaction).

    populate_existing: a Controller loaded earlier in the session (a page's sign-in check) would otherwise be
    handed back as it was, with a stale chain head. Asked again in a transaction that still holds the lock, the
    row read then is handed back without a statement, unless its audit head is no longer the one read or written
    under the lock (`note_head`): another chain writer moved it (the consent ledger's bulk path expires the row),
    or a savepoint that moved it was rolled back."""
    held = _still_fresh(session, controller_id)
    if held is not None:
        return held
    sqlite = _needs_sqlite_write_lock(session)
    controller = session.execute(_TOUCH_AND_READ if sqlite else _LOCK_AND_READ,
                                 {"controller_id": controller_id}).scalar_one_or_none()
    if sqlite:
        session.info[_SQLITE_LOCKED] = session.get_transaction()
    if controller is not None:
        note_head(session, controller)
    return controller


def move_head(session: Session, controller: Controller, seq: int, hash_: str) -> None:
    """Move the audit head of `controller` (held under its lock, from `locked_controller`) to event `seq` with hash
    `hash_`: one Core UPDATE, and the held row given the new head as loaded, not as a change for a flush to write.

    Flushing the change would cost several times the statement. What the flush did besides, this does too: the new
    head is remembered (`note_head`), and a savepoint rolled back expires the row (`_expire_moved`), as it expires
    the rows flushed in it."""
    session.execute(_MOVE_HEAD, {"controller_id": controller.id, "seq": seq, "hash": hash_})
    set_committed_value(controller, "audit_head_seq", seq)
    set_committed_value(controller, "audit_head_hash", hash_)
    savepoint = session.get_nested_transaction()
    if savepoint is not None:
        moved: dict[SessionTransaction, list[Controller]] = session.info.setdefault(_MOVED, {})
        moved.setdefault(savepoint, []).append(controller)
    note_head(session, controller)


def note_head(session: Session, controller: Controller) -> None:
    """Remember the controller's audit head as read under its lock, or as this transaction just moved it
    (`move_head`), for `locked_controller` to trust while the lock is held."""
    transaction = _innermost(session)
    if transaction is not None:
        fresh: dict[str, _Fresh] = session.info.setdefault(_FRESH, {})
        fresh[controller.id] = _Fresh(transaction, controller, controller.audit_head_seq,
                                      controller.audit_head_hash)


def _still_fresh(session: Session, controller_id: str) -> Controller | None:
    known: _Fresh | None = session.info.get(_FRESH, {}).get(controller_id)
    if known is None or not _holds(session, known.transaction):
        return None
    held = known.controller
    if session.identity_map.get(identity_key(Controller, controller_id)) is not held or \
            _HEAD & inspect(held).unloaded:
        return None
    return held if (held.audit_head_seq, held.audit_head_hash) == (known.seq, known.hash) else None


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    """Let go of the rows remembered under a transaction (or savepoint) that ended: nothing they say is known to
    hold any more, and a later transaction of the session must read the row again, not find this one."""
    fresh: dict[str, _Fresh] | None = session.info.get(_FRESH)
    if fresh:
        for controller_id in [c for c, known in fresh.items() if known.transaction is transaction]:
            del fresh[controller_id]
    if transaction.parent is None:
        session.info.pop(_MOVED, None)  # no savepoint of it is left to roll back


@event.listens_for(Session, "after_soft_rollback")
def _expire_moved(session: Session, previous_transaction: SessionTransaction) -> None:
    """A savepoint rolled back: expire the rows whose head `move_head` moved in it (or in a savepoint inside it),
    as the ORM expires the rows it flushed there, so that the head is read again, not the one rolled back."""
    moved: dict[SessionTransaction, list[Controller]] | None = session.info.get(_MOVED)
    if not moved:
        return
    for savepoint in [t for t in moved if _encloses(previous_transaction, t)]:
        for controller in moved.pop(savepoint):
            if controller in session:
                session.expire(controller)
