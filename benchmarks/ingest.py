"""Consent ingest on PostgreSQL: events/s through the API's write path (the request body parsed as `ConsentIn`s, checked
against the policy, hash-chained, its evidence encrypted, projected, one audit event per batch, one transaction
per batch) against a raw batched INSERT of the very same rows, one transaction per batch: the events into a table
shaped exactly like `consent_events` and the projection rows the batch left into one shaped exactly like
`consent_states` (`INSERT … ON CONFLICT DO UPDATE`, as the rows mostly exist already), each table with the same
indexes, constraints, foreign key and storage parameters, by whichever of pipelined `executemany` or one multi-row
INSERT per statement is faster. The raw INSERT of the events alone (no projection) is measured in the same run too
and printed as an informational row, so the comparison can be read both ways. The write path loads events with
COPY on PostgreSQL (`charter.consent.bulk`). Write path and baselines alternate batch by batch (the write path
appends a batch, the baselines insert the same rows), so background load on a shared machine hits all alike.
Needs PostgreSQL at 127.0.0.1:5432 (user postgres, trust)."""

from __future__ import annotations

import datetime as dt
import gc
import json
import socket
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import text

from benchmarks import Row, benchmark
from charter.accounts.services import ControllerService
from charter.consent.services import ConsentLedger
from charter.core.crypto import Keyring
from charter.core.db import make_engine, session_factory, transaction
from charter.decisions.services import load_terms
from charter.migrations import upgrade
from charter.policy.services import PolicyStore
from charter.subjects.models import Subject
from charter.web.api.consents import parse_consents

ROOT = Path(__file__).resolve().parents[1]
LUBPUR = ROOT / "examples" / "lubpur" / "policy.yaml"
ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
BATCH = 500
PURPOSES = ("analytics", "personalisation", "marketing_email", "email_tracking")


def _postgres_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


def _events(subjects: list[str], count: int) -> list[dict[str, Any]]:
    return [{"subject_id": subjects[n % len(subjects)], "purpose": PURPOSES[n % len(PURPOSES)],
             "action": "grant" if n % 3 else "withdraw", "channel": "web", "method": "checkbox",
             "language": "zh-CN", "notice": "registration-form",
             "evidence": {"ip": f"198.51.100.{n % 250}", "user_agent": "Mozilla/5.0 (X11; Linux x86_64)",
                          "request_id": f"req-{n}"}} for n in range(count)]


class _Raw:
    """The baselines: tables shaped like `consent_events` and `consent_states` (same indexes, constraints, foreign
    key and storage parameters), one transaction per batch. The events go in by pipelined `executemany` or one
    multi-row INSERT; the batch's state rows (`INSERT … ON CONFLICT DO UPDATE`) by either of those or one INSERT …
    SELECT FROM unnest(column arrays). Every combination is timed and the fastest counts; the events alone, without
    the projection, are a second reading."""

    EVENT_WAYS = ("executemany", "multirow")
    STATE_WAYS = ("executemany", "multirow", "unnest")

    def __init__(self, dsn: str, controller_id: str) -> None:
        self.conn = psycopg.connect(dsn)
        self.events = self._columns("consent_events")
        self.states = self._columns("consent_states")
        self.state_types = [row[0] for row in self.conn.execute(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'consent_states'::regclass "
            "AND attnum > 0 AND NOT attisdropped ORDER BY attnum")]
        keys = [row[0] for row in self.conn.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = 'consent_states'::regclass AND i.indisprimary")]
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in self.states if c not in keys)
        self.upsert = f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"
        self.tables: dict[tuple[str, str | None], tuple[str, str | None]] = {}
        for events_way in self.EVENT_WAYS:
            for states_way in (*self.STATE_WAYS, None):
                name = f"raw_{events_way}_{states_way or 'none'}_{controller_id}"
                self._like("consent_events", f"{name}_events")
                if states_way is not None:
                    self._like("consent_states", f"{name}_states")
                self.tables[events_way, states_way] = (f"{name}_events", f"{name}_states" if states_way else None)
        self.conn.commit()
        self.elapsed = dict.fromkeys(self.tables, 0.0)

    def _columns(self, table: str) -> list[str]:
        return [d.name for d in self.conn.execute(f"SELECT * FROM {table} LIMIT 0").description or []]  # noqa: S608

    def _like(self, source: str, table: str) -> None:
        options = self.conn.execute("SELECT reloptions FROM pg_class WHERE oid = %s::regclass", [source]).fetchone()
        storage = f" WITH ({', '.join(options[0])})" if options and options[0] else ""
        self.conn.execute(f"CREATE TABLE {table} (LIKE {source} INCLUDING ALL){storage}")
        self.conn.execute(f"ALTER TABLE {table} ADD FOREIGN KEY (controller_id) REFERENCES controllers (id)")

    def insert(self, events: list[tuple[Any, ...]], states: list[tuple[Any, ...]]) -> None:
        for (events_way, states_way), (events_table, states_table) in self.tables.items():
            start = time.perf_counter()
            with self.conn.cursor() as cur:
                self._write(cur, events_way, events_table, self.events, events)
                if states_way is not None and states_table is not None:
                    self._write(cur, states_way, states_table, self.states, states, tail=self.upsert)
            self.conn.commit()
            self.elapsed[events_way, states_way] += time.perf_counter() - start

    def _write(self, cur: psycopg.Cursor[Any], way: str, table: str, columns: list[str],
               rows: list[tuple[Any, ...]], *, tail: str = "") -> None:
        one = f"({', '.join(['%s'] * len(columns))})"
        head = f"INSERT INTO {table} ({', '.join(columns)}) "
        if way == "multirow":
            cur.execute(f"{head}VALUES {', '.join([one] * len(rows))}{tail}", [v for row in rows for v in row])
        elif way == "unnest":
            arrays = ", ".join(f"%s::{t}[]" for t in self.state_types)
            cur.execute(f"{head}SELECT * FROM unnest({arrays}){tail}",  # noqa: S608 - catalog names
                        [list(column) for column in zip(*rows, strict=True)])
        else:
            cur.executemany(f"{head}VALUES {one}{tail}", rows)

    def stored(self, controller_id: str, first: int, last: int) -> tuple[list[tuple[Any, ...]],
                                                                          list[tuple[Any, ...]]]:
        """The events the write path stored (seq `first`..`last`) and the projection rows it left for them."""
        events = self.conn.execute("SELECT * FROM consent_events WHERE controller_id = %s AND seq BETWEEN %s AND %s "
                                   "ORDER BY seq", [controller_id, first, last]).fetchall()
        states = self.conn.execute("SELECT * FROM consent_states WHERE controller_id = %s AND seq BETWEEN %s AND %s "
                                   "ORDER BY subject_id, purpose", [controller_id, first, last]).fetchall()
        self.conn.commit()
        return events, states


def _round(url: str, dsn: str, keyring: Keyring, controller_id: str, events: list[dict[str, Any]]) -> tuple[
        float, dict[tuple[str, str | None], float]]:
    """Batch by batch, alternating: the write path appends a batch, then the baseline inserts the same rows."""
    engine = make_engine(url)
    sessions = session_factory(engine)
    with sessions() as s:
        terms = load_terms(s, controller_id, dt.date.today())
    raw = _Raw(dsn, controller_id)
    ours = 0.0
    # The run's events, built up front, are the harness's, not the write path's: freeze them as the server
    # freezes its startup objects (charter.web.app), so collections the write path triggers do not rescan them.
    gc.collect()
    gc.freeze()
    try:
        for n in range(0, len(events), BATCH):
            body = json.dumps(events[n:n + BATCH]).encode()  # what the host sends: not timed
            start = time.perf_counter()
            items, _is_batch = parse_consents(body)
            with transaction(sessions) as session:
                done = ConsentLedger(session, keyring).record_many(controller_id, items, terms, actor="bench",
                                                                   is_batch=True)
            ours += time.perf_counter() - start
            raw.insert(*raw.stored(controller_id, done[0].seq, done[-1].seq))
    finally:
        gc.unfreeze()
        raw.conn.close()
        engine.dispose()
    return ours, raw.elapsed


def _controller(url: str, controller_id: str, people: int) -> list[str]:
    engine = make_engine(url)
    with transaction(session_factory(engine)) as s:
        ControllerService(s).create(controller_id, "Bench", actor="bench")
        text_ = LUBPUR.read_text(encoding="utf-8").replace('id: "lubpur"', f'id: "{controller_id}"')
        PolicyStore(s).publish(controller_id, text_, source="bench", actor="bench")
        subjects = [str(uuid.uuid4()) for _ in range(people)]
        s.add_all(Subject(id=sid, controller_id=controller_id) for sid in subjects)
    with engine.begin() as conn:  # committed: statistics written by a rolled-back ANALYZE are thrown away
        conn.execute(text("ANALYZE"))
    engine.dispose()
    return subjects


@benchmark("ingest", "consent ingest on PostgreSQL: the API's write path vs a raw batched INSERT")
def run(quick: bool) -> list[Row]:
    if not _postgres_up():
        print("  PostgreSQL is not reachable at 127.0.0.1:5432; skipping the ingest benchmark")
        return []
    rounds, count = (2, 5_000) if quick else (3, 10_000)
    name = f"charter_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    dsn = f"host=127.0.0.1 port=5432 user=postgres dbname={name}"
    ours = 0.0
    raws: dict[tuple[str, str | None], float] = {}
    try:
        upgrade(url)
        keyring = Keyring.generate()
        for n in range(rounds):
            controller_id = f"bench{n}"
            subjects = _controller(url, controller_id, 2_000)
            spent, raw_spent = _round(url, dsn, keyring, controller_id, _events(subjects, count))
            ours += spent
            for key, seconds in raw_spent.items():
                raws[key] = raws.get(key, 0.0) + seconds
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    total = rounds * count
    rate = total / ours
    rows = []
    for projected in (True, False):
        timed = [(key, seconds) for key, seconds in raws.items() if (key[1] is not None) == projected]
        (events_way, states_way), seconds = min(timed, key=lambda item: item[1])
        way = _WAYS[events_way] + (f" + {_WAYS[states_way]}" if states_way else "")
        if projected:
            rows.append(Row("ingest", f"consent events/s via the API write path (batches of {BATCH})", rate, "/s",
                            total / seconds, f"raw {way}: events + projection, same rows, alternating",
                            "≥ 50% of raw", rate / (total / seconds) >= 0.5))
        else:
            rows.append(Row("ingest", "the same, against the events alone (informational)", rate, "/s",
                            total / seconds, f"raw {way}: events only, same rows, alternating"))
    return rows


_WAYS = {"executemany": "INSERT executemany", "multirow": "multi-row INSERT", "unnest": "INSERT … SELECT unnest"}
