"""Bulk writes for the ledger, inside the caller's transaction: on PostgreSQL one statement checks a batch before
it is sealed (controller still collecting, subjects known), events go in with `COPY`, the chain head is locked with
one statement and a batch ends with one more (projection, chain head, audit event); elsewhere (SQLite) the caller
uses executemany and the ORM.

Per-row INSERTs cost PostgreSQL a parse, plan and round trip each; consent ingest is the one write path whose
volume makes that matter (see `benchmarks/ingest.py` and docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

from psycopg.types.json import Json
from sqlalchemy import Connection, Table, insert
from sqlalchemy.dialects import sqlite

from charter.audit.chain import GENESIS
from charter.core.db import Base
from charter.core.errors import NotFound

__all__ = ["copy_rows", "finish_batch", "is_postgres", "lock_chain", "unwritable", "upsert_rows"]

_COPY_TYPES: dict[tuple[str, tuple[str, ...]], list[str]] = {}


def is_postgres(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"


def copy_rows(connection: Connection, model: type[Base], columns: Sequence[str],
              rows: Sequence[Sequence[Any]]) -> None:
    """Insert `rows` (values in the order of `columns`) into the model's table."""
    table = cast(Table, model.__table__)
    if not rows:
        return
    if not is_postgres(connection):
        connection.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in rows])
        return
    names = ", ".join(f'"{c}"' for c in columns)
    types = _COPY_TYPES.get((table.name, tuple(columns)))
    if types is None:  # compiling 30 column types costs more than copying a row: once per shape
        types = _COPY_TYPES[table.name, tuple(columns)] = [_array_type(connection, table, c) for c in columns]
    raw = connection.connection.driver_connection
    sql = f'COPY "{table.name}" ({names}) FROM STDIN (FORMAT BINARY)'
    with raw.cursor() as cursor, cursor.copy(sql) as copy:  # type: ignore[union-attr]
        copy.set_types(types)
        write = copy.write_row
        for row in rows:
            write(row)


def _array_type(connection: Connection, table: Table, column: str) -> str:
    """The PostgreSQL type name psycopg's binary COPY needs (`varchar`, `timestamptz` …)."""
    rendered = table.c[column].type.compile(dialect=connection.dialect).lower()
    return {"timestamp with time zone": "timestamptz"}.get(rendered, rendered.split("(")[0])


def upsert_rows(connection: Connection, model: type[Base], rows: Sequence[Mapping[str, Any]],
                keys: Sequence[str]) -> None:
    """Insert `rows`, replacing every other column of a row whose `keys` already exist. `keys` must be unique
    within `rows`."""
    table = cast(Table, model.__table__)
    if not rows:
        return
    columns = list(rows[0])
    if not is_postgres(connection):
        stmt = sqlite.insert(table)
        stmt = stmt.on_conflict_do_update(index_elements=list(keys),
                                          set_={c: stmt.excluded[c] for c in columns if c not in keys})
        connection.execute(stmt, rows)
        return
    types = [table.c[c].type.compile(dialect=connection.dialect) for c in columns]
    name = table.name
    arrays = ", ".join(f"%s::{t}[]" for t in types)
    updates = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in columns if c not in keys)
    sql = (f'INSERT INTO "{name}" ({", ".join(f"{chr(34)}{c}{chr(34)}" for c in columns)}) '  # noqa: S608
           f'SELECT * FROM unnest({arrays}) ON CONFLICT ({", ".join(keys)}) DO UPDATE SET {updates}')
    raw = connection.connection.driver_connection
    with raw.cursor() as cursor:  # type: ignore[union-attr]
        cursor.execute(sql, [[row[c] for row in rows] for c in columns])


# Ids travel as one comma-joined text (subject ids are UUIDs): a 500-element array parameter costs the client more
# to encode than the query costs the server.
_UNWRITABLE = """
SELECT (SELECT collection_stopped_at IS NOT NULL FROM controllers WHERE id = %(controller)s),
       ARRAY(SELECT w.id FROM unnest(string_to_array(%(ids)s, ',')) AS w(id)
             WHERE NOT EXISTS (SELECT 1 FROM subjects s WHERE s.id = w.id AND s.controller_id = %(controller)s))
"""


def unwritable(connection: Connection, controller_id: str, subject_ids: Iterable[str]) -> tuple[bool, set[str]]:
    """In one round trip, what stops a batch before it is sealed: whether the controller has stopped collecting
    (LUB-SHUTDOWN), and which of `subject_ids` (UUIDs) are not its subjects. PostgreSQL only."""
    raw = connection.connection.driver_connection
    with raw.cursor() as cursor:  # type: ignore[union-attr]
        row = cursor.execute(_UNWRITABLE, {"controller": controller_id, "ids": ",".join(subject_ids)}).fetchone()
    assert row is not None  # noqa: S101 - a SELECT without FROM returns one row
    return bool(row[0]), set(row[1])


_LOCK_BOTH = """
SELECT c.audit_head_seq, c.audit_head_hash, h.seq, h.hash
FROM controllers c JOIN consent_chain_heads h ON h.controller_id = c.id
WHERE c.id = %s
FOR NO KEY UPDATE OF c, h
"""


def lock_chain(connection: Connection, controller_id: str) -> tuple[int, str, int, str]:
    """Lock the controller row and then the ledger head (the audit log's order: one lock order, no deadlock; and
    its strength, `FOR NO KEY UPDATE`, which foreign-key checks on the controller do not wait for: see
    `charter.core.locks`)
    and return (audit head seq, audit head hash, ledger head seq, ledger head hash), all read after the locks
    were granted. PostgreSQL only.

    One statement locks both rows, the controller's first (row marks are taken in `FOR UPDATE OF` order); under
    READ COMMITTED a row changed while we waited is re-read at its newest version (EvalPlanQual), so the heads
    returned are the committed ones. Before a controller's first event there is no head row to join: lock the
    controller alone, then read (or create) the head under that lock."""
    raw = connection.connection.driver_connection
    with raw.cursor() as cursor:  # type: ignore[union-attr]
        row = cursor.execute(_LOCK_BOTH, [controller_id]).fetchone()
        if row is not None:
            return int(row[0]), row[1] or "", int(row[2]), row[3]
        audit = cursor.execute(
            "SELECT audit_head_seq, audit_head_hash FROM controllers WHERE id = %s FOR NO KEY UPDATE",
            [controller_id]).fetchone()
        if audit is None:
            raise NotFound(f"no controller {controller_id!r}")
        head = cursor.execute("SELECT seq, hash FROM consent_chain_heads WHERE controller_id = %s FOR UPDATE",
                              [controller_id]).fetchone()
        if head is None:
            cursor.execute("INSERT INTO consent_chain_heads (controller_id, seq, hash) VALUES (%s, 0, %s)",
                           [controller_id, GENESIS])
            head = (0, GENESIS)
        return int(audit[0]), audit[1] or "", int(head[0]), head[1]


# One statement ends a batch: the projection of the events just copied (read back on the server, so the rows are
# not sent twice; the client names the events a later one in the same batch supersedes, usually none), the new ledger
# head, the batch's audit event and the controller's new audit head. The superseded seqs travel as text and are
# unpacked once (an InitPlan): a cast of the parameter itself would be redone for every row under a generic plan.
_FINISH = """
WITH head AS (
    UPDATE consent_chain_heads SET seq = %(last)s, hash = %(head)s WHERE controller_id = %(controller)s
), audit AS (
    INSERT INTO audit_events (controller_id, seq, at, actor, action, target, data, prev_hash, hash)
    VALUES (%(controller)s, %(a_seq)s, %(a_at)s, %(a_actor)s, %(a_action)s, %(a_target)s, %(a_data)s::json,
            %(a_prev)s, %(a_hash)s)
), audit_head AS (
    UPDATE controllers SET audit_head_seq = %(a_seq)s, audit_head_hash = %(a_hash)s WHERE id = %(controller)s
)
INSERT INTO consent_states (controller_id, subject_id, purpose, status, consent_kind, policy_version, policy_hash,
                            record_id, seq, at, valid_until, by_guardian, gpc)
SELECT controller_id, subject_id, purpose,
       CASE action WHEN 'grant' THEN 'granted' WHEN 'guardian_grant' THEN 'granted' WHEN 'refuse' THEN 'refused'
                   WHEN 'withdraw' THEN 'withdrawn' WHEN 'expire' THEN 'expired' WHEN 'accept' THEN 'accepted'
                   ELSE 'superseded' END,
       consent_kind, policy_version, policy_hash, record_id, seq, at, valid_until, action = 'guardian_grant', gpc
FROM consent_events
WHERE controller_id = %(controller)s AND seq BETWEEN %(first)s AND %(last)s
  AND NOT seq = ANY(ARRAY(SELECT unnest(string_to_array(%(superseded)s, ','))::bigint))
ORDER BY subject_id, purpose
ON CONFLICT (controller_id, subject_id, purpose) DO UPDATE SET
    status = EXCLUDED.status, consent_kind = EXCLUDED.consent_kind, policy_version = EXCLUDED.policy_version,
    policy_hash = EXCLUDED.policy_hash, record_id = EXCLUDED.record_id, seq = EXCLUDED.seq, at = EXCLUDED.at,
    valid_until = EXCLUDED.valid_until, by_guardian = EXCLUDED.by_guardian, gpc = EXCLUDED.gpc
"""


def finish_batch(connection: Connection, controller_id: str, first_seq: int, last_seq: int,
                 superseded: Iterable[int], *, head_hash: str, audit: Mapping[str, Any]) -> None:
    """On PostgreSQL, under the locks `lock_chain` took: project the events just appended (seq `first_seq`..
    `last_seq`) but those in `superseded` (followed in the same batch by a later event for the same subject and
    purpose) into `consent_states`, move the ledger head to (`last_seq`, `head_hash`), write the audit event `audit`
    (from `charter.audit.services.next_event`) and move the controller's audit head to it, in one statement. The
    projection must agree with `charter.consent.chain.project` (the replay test holds both to it)."""
    raw = connection.connection.driver_connection
    with raw.cursor() as cursor:  # type: ignore[union-attr]
        cursor.execute(_FINISH, {
            "controller": controller_id, "first": first_seq, "last": last_seq,
            "superseded": ",".join(map(str, superseded)), "head": head_hash, "a_seq": audit["seq"],
            "a_at": audit["at"], "a_actor": audit["actor"], "a_action": audit["action"], "a_target": audit["target"],
            "a_data": Json(audit["data"]), "a_prev": audit["prev_hash"], "a_hash": audit["hash"]})
