"""Bulk writes for the ledger, inside the caller's transaction: on PostgreSQL events go in with `COPY` and the
projection with one `INSERT … SELECT FROM unnest(…) ON CONFLICT` statement; elsewhere (SQLite) with executemany.

Per-row INSERTs cost PostgreSQL a parse, plan and round trip each; consent ingest is the one write path whose
volume makes that matter (see `benchmarks/ingest.py` and docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Connection, Table, insert
from sqlalchemy.dialects import sqlite

from charter.core.db import Base

__all__ = ["copy_rows", "project_on_server", "upsert_rows"]


def _is_postgres(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"


def copy_rows(connection: Connection, model: type[Base], rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert `rows` (dicts with the same keys) into the model's table."""
    table = cast(Table, model.__table__)
    if not rows:
        return
    if not _is_postgres(connection):
        connection.execute(insert(table), rows)
        return
    columns = list(rows[0])
    names = ", ".join(f'"{c}"' for c in columns)
    types = [_array_type(connection, table, c) for c in columns]
    raw = connection.connection.driver_connection
    sql = f'COPY "{table.name}" ({names}) FROM STDIN (FORMAT BINARY)'
    with raw.cursor() as cursor, cursor.copy(sql) as copy:  # type: ignore[union-attr]
        copy.set_types(types)
        for row in rows:
            copy.write_row([row[c] for c in columns])


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
    if not _is_postgres(connection):
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


_PROJECT = """
INSERT INTO consent_states (controller_id, subject_id, purpose, status, consent_kind, policy_version, policy_hash,
                            record_id, seq, at, valid_until, by_guardian, gpc)
SELECT DISTINCT ON (subject_id, purpose)
       controller_id, subject_id, purpose,
       CASE action WHEN 'grant' THEN 'granted' WHEN 'guardian_grant' THEN 'granted' WHEN 'refuse' THEN 'refused'
                   WHEN 'withdraw' THEN 'withdrawn' WHEN 'expire' THEN 'expired' ELSE 'superseded' END,
       consent_kind, policy_version, policy_hash, record_id, seq, at, valid_until, action = 'guardian_grant', gpc
FROM consent_events
WHERE controller_id = %(controller)s AND seq BETWEEN %(first)s AND %(last)s AND subject_id IS NOT NULL
ORDER BY subject_id, purpose, seq DESC
ON CONFLICT (controller_id, subject_id, purpose) DO UPDATE SET
    status = EXCLUDED.status, consent_kind = EXCLUDED.consent_kind, policy_version = EXCLUDED.policy_version,
    policy_hash = EXCLUDED.policy_hash, record_id = EXCLUDED.record_id, seq = EXCLUDED.seq, at = EXCLUDED.at,
    valid_until = EXCLUDED.valid_until, by_guardian = EXCLUDED.by_guardian, gpc = EXCLUDED.gpc
"""


def project_on_server(connection: Connection, controller_id: str, first_seq: int, last_seq: int) -> bool:
    """On PostgreSQL, project the events just appended (seq `first_seq`..`last_seq`) into `consent_states`
    without sending the rows back over the wire; returns False elsewhere, where the caller projects itself.
    Must agree with `charter.consent.chain.project` (the replay test holds both to it)."""
    if not _is_postgres(connection):
        return False
    raw = connection.connection.driver_connection
    with raw.cursor() as cursor:  # type: ignore[union-attr]
        cursor.execute(_PROJECT, {"controller": controller_id, "first": first_seq, "last": last_seq})
    return True
