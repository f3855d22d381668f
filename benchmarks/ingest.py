"""Consent ingest on PostgreSQL: events/s through the API's write path (the request body parsed as `ConsentIn`s, checked
against the policy, hash-chained, its evidence encrypted, projected, one audit event per batch, one transaction
per batch) against a raw batched INSERT of the very same rows into a table shaped exactly like `consent_events`
(same indexes, constraints and foreign key), one transaction per batch, by whichever of pipelined `executemany` or
one multi-row INSERT per batch is faster. The write path loads events with COPY on PostgreSQL (`charter.consent.
bulk`). The two alternate batch by batch (the write path appends a batch, the baseline inserts the same rows),
so background load on a shared machine hits both alike.
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
    """The baseline: a table shaped like `consent_events` (same indexes, constraints and foreign key) and the
    faster of pipelined `executemany` or one multi-row INSERT per batch, one transaction per batch."""

    def __init__(self, dsn: str, controller_id: str) -> None:
        self.conn = psycopg.connect(dsn)
        self.columns = [d.name for d in self.conn.execute("SELECT * FROM consent_events LIMIT 0").description or []]
        self.tables = {}
        for how in ("executemany", "multirow"):
            table = f"raw_{how}_{controller_id}"
            self.conn.execute(f"CREATE TABLE {table} (LIKE consent_events INCLUDING ALL)")
            self.conn.execute(f"ALTER TABLE {table} ADD FOREIGN KEY (controller_id) REFERENCES controllers (id)")
            self.tables[how] = table
        self.conn.commit()
        self.elapsed = {"executemany": 0.0, "multirow": 0.0}

    def insert(self, rows: list[tuple[Any, ...]]) -> None:
        one = f"({', '.join(['%s'] * len(self.columns))})"
        for how, table in self.tables.items():
            head = f"INSERT INTO {table} ({', '.join(self.columns)}) VALUES "  # noqa: S608 - catalog names
            start = time.perf_counter()
            with self.conn.cursor() as cur:
                if how == "multirow":
                    cur.execute(head + ", ".join([one] * len(rows)), [v for row in rows for v in row])
                else:
                    cur.executemany(head + one, rows)
            self.conn.commit()
            self.elapsed[how] += time.perf_counter() - start

    def stored(self, controller_id: str, first: int, last: int) -> list[tuple[Any, ...]]:
        rows = self.conn.execute("SELECT * FROM consent_events WHERE controller_id = %s AND seq BETWEEN %s AND %s "
                                 "ORDER BY seq", [controller_id, first, last]).fetchall()
        self.conn.commit()
        return rows


def _round(url: str, dsn: str, keyring: Keyring, controller_id: str, events: list[dict[str, Any]]) -> tuple[
        float, dict[str, float]]:
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
            raw.insert(raw.stored(controller_id, done[0].seq, done[-1].seq))
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
    with engine.connect() as conn:
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
    raws = {"executemany": 0.0, "multirow": 0.0}
    try:
        upgrade(url)
        keyring = Keyring.generate()
        for n in range(rounds):
            controller_id = f"bench{n}"
            subjects = _controller(url, controller_id, 2_000)
            spent, raw_spent = _round(url, dsn, keyring, controller_id, _events(subjects, count))
            ours += spent
            for how, seconds in raw_spent.items():
                raws[how] += seconds
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    total = rounds * count
    how, raw_seconds = min(raws.items(), key=lambda item: item[1])
    rate, raw_rate = total / ours, total / raw_seconds
    return [Row("ingest", f"events/s, write path (batches of {BATCH})", rate, "/s", raw_rate,
                f"raw {'multi-row INSERT' if how == 'multirow' else 'INSERT executemany'}, interleaved",
                "≥ 50% of raw", rate / raw_rate >= 0.5)]
