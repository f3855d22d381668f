"""Retention, incidents and the outbox at scale, on PostgreSQL (127.0.0.1:5432, user postgres, trust):

- `retention`: a sweep deleting N expired rows through `RetentionSweep` (data map, connector, keyset chunks of 10,000,
  one transaction each), side by side with a raw chunked DELETE of the same rows (id ranges of 10,000 straight
  through psycopg, one transaction each) on an identical table in the same run; rows/s and peak RSS.
- `incident`: resolving the people affected by an incident when N people have rows in the affected table
  (streamed through the connector, encrypted, blind-indexed, de-duplicated into `incident_affected`).
- `outbox`: the sender draining N queued emails to a local SMTP sink (aiosmtpd, counting only).

`--quick` runs a tenth of the default sizes (10 million, 1 million, 100,000), which take several minutes.
"""

from __future__ import annotations

import datetime as dt
import gc
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import yaml
from aiosmtpd.controller import Controller as SmtpController

from benchmarks import Row, benchmark
from charter.accounts.services import ControllerService
from charter.core.crypto import Keyring
from charter.core.db import make_engine, session_factory, transaction
from charter.core.secrets import Secrets
from charter.datamap.services import DataMapStore
from charter.incidents import AffectedResolver, IncidentIn, Incidents
from charter.migrations import upgrade
from charter.outbox import Channel, Outbox, OutboxSender, RetryPolicy, SmtpTransport
from charter.policy.services import PolicyStore
from charter.retention import RetentionSweep

ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
LUBPUR = Path(__file__).resolve().parents[1] / "examples" / "lubpur" / "policy.yaml"
CHUNK = 10_000


def _postgres_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


@contextmanager
def _database(prefix: str) -> Iterator[str]:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as status:  # noqa: PTH123 - a proc file, read once
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


@contextmanager
def _peak_rss() -> Iterator[dict[str, int]]:
    """Samples the resident set every 20 ms while the block runs: `start` and `peak` in KiB."""
    gc.collect()
    seen = {"start": _rss_kib(), "peak": _rss_kib()}
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.02):
            seen["peak"] = max(seen["peak"], _rss_kib())

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        stop.set()
        thread.join()
        seen["peak"] = max(seen["peak"], _rss_kib())


def _check(ok: bool, what: str) -> None:
    """A benchmark that did not do all its work measures nothing: stop with what happened."""
    if not ok:
        raise RuntimeError(what)


def _timed(work: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def _policy(controller_id: str) -> str:
    doc = yaml.safe_load(LUBPUR.read_text(encoding="utf-8"))
    doc["controller"]["id"] = controller_id
    return yaml.safe_dump(doc, allow_unicode=True)


@contextmanager
def _charter(prefix: str) -> Iterator[tuple[str, Any, Keyring, str]]:
    """A migrated Charter database with one controller whose policy (Lubpur's) is published."""
    with _database(prefix) as name:
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        upgrade(url)
        engine = make_engine(url)
        sessions, keyring, cid = session_factory(engine), Keyring.generate(), "bench"
        with transaction(sessions) as session:
            ControllerService(session).create(cid, "Bench Co", actor="bench")
            PolicyStore(session).publish(cid, _policy(cid), source="bench", actor="bench")
        try:
            yield url, sessions, keyring, cid
        finally:
            engine.dispose()


_DATAMAP = """
schema: charter.datamap/v1
controller: bench
version: "1"
retention_rules:
  - {{id: logs, days: 30, reason: {{zh: 日志保存30天, en: Logs are kept 30 days}}}}
systems:
  - id: web
    name: Web
    datasets:
      - id: host
        kind: postgresql
        connection: {{secret: BENCH_HOST}}
        region: CN
        retention: logs
        collections:
          - name: {table}
            collected_at: created_at
            erasure: delete_row
            fields:
              - {{name: id, type: integer, primary_key: true}}
              - {{name: email, type: string, categories: [basic.email], identity: email}}
              - {{name: ip, type: string, categories: [identity.ip]}}
              - {{name: created_at, type: datetime}}
"""


def _fill(conn: psycopg.Connection[Any], table: str, rows: int, *, expired: bool) -> None:
    conn.execute(f"CREATE TABLE {table} (id bigint PRIMARY KEY, email text, ip text, created_at timestamp)")
    age = "interval '400 days'" if expired else "interval '1 day'"
    conn.execute(f"INSERT INTO {table} SELECT g, 'p' || g || '@example.com', '10.0.' || (g %% 250) || '.1', "  # noqa: S608 - generated
                 f"now() - {age} FROM generate_series(1, %s) g", (rows,))
    conn.commit()
    conn.autocommit = True
    conn.execute(f"VACUUM ANALYZE {table}")
    conn.autocommit = False


def _raw_delete(dsn: str, table: str, rows: int, cutoff: dt.datetime) -> int:
    """The hand-written baseline: DELETE by id range, one transaction per chunk."""
    deleted = 0
    with psycopg.connect(dsn) as conn:
        for start in range(0, rows, CHUNK):
            cur = conn.execute(f"DELETE FROM {table} WHERE id > %s AND id <= %s AND created_at < %s",  # noqa: S608
                               (start, start + CHUNK, cutoff))
            deleted += cur.rowcount
            conn.commit()
    return deleted


@benchmark("retention", "retention sweep on PostgreSQL vs a raw chunked DELETE of the same rows")
def retention(quick: bool) -> list[Row]:
    if not _postgres_up():
        print("retention: PostgreSQL is not reachable at 127.0.0.1:5432; skipped")
        return []
    rows = 1_000_000 if quick else 10_000_000
    with _database("bench_host") as host, _charter("bench_charter") as (_url, sessions, keyring, cid):
        dsn = f"host=127.0.0.1 port=5432 user=postgres dbname={host}"
        with psycopg.connect(dsn) as conn:
            _fill(conn, "raw_events", rows, expired=True)
            _fill(conn, "events", rows, expired=True)
        with transaction(sessions) as session:
            DataMapStore(session).publish(cid, _DATAMAP.format(table="events"), source="bench", actor="bench")
        secrets = Secrets(environ={"CHARTER_SECRET_BENCH_HOST": f"postgresql://postgres@127.0.0.1:5432/{host}"})
        cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
        raw_seconds, raw_deleted = _timed(lambda: _raw_delete(dsn, "raw_events", rows, cutoff.replace(tzinfo=None)))
        sweep = RetentionSweep(sessions, keyring, secrets, chunk_size=CHUNK)
        with _peak_rss() as memory:
            seconds, report = _timed(lambda: sweep.run(cid, actor="bench"))
    _check(raw_deleted == rows and report.rows_deleted == rows, f"deleted {raw_deleted} raw, {report.rows_deleted}")
    rate, raw_rate = rows / seconds, rows / raw_seconds
    growth = (memory["peak"] - memory["start"]) / 1024
    return [Row("retention", f"rows/s deleting {rows:,} expired rows (chunks of {CHUNK:,})", rate, "/s", raw_rate,
                "raw chunked DELETE", "≥ 50% of raw", rate >= 0.5 * raw_rate),
            Row("retention", "peak RSS during the sweep", memory["peak"] / 1024, "MiB", None, "", "flat", None),
            Row("retention", "RSS growth during the sweep", growth, "MiB", None, "", "flat (< 64 MiB)", growth < 64)]


@benchmark("incident", "resolving the people affected by an incident on PostgreSQL")
def incident(quick: bool) -> list[Row]:
    if not _postgres_up():
        print("incident: PostgreSQL is not reachable at 127.0.0.1:5432; skipped")
        return []
    people = 100_000 if quick else 1_000_000
    with _database("bench_host") as host, _charter("bench_charter") as (_url, sessions, keyring, cid):
        dsn = f"host=127.0.0.1 port=5432 user=postgres dbname={host}"
        with psycopg.connect(dsn) as conn:
            _fill(conn, "customers", people, expired=False)
        with transaction(sessions) as session:
            DataMapStore(session).publish(cid, _DATAMAP.format(table="customers"), source="bench", actor="bench")
            incident_id = Incidents(session).record(cid, IncidentIn(
                title="Customer table exposed", found_by="bench", discovered_at=dt.datetime.now(dt.UTC),
                location="db", description="bench", categories=["basic.email"], systems=["host"],
                people_estimate=people, police_informed=False), actor="bench").id
        secrets = Secrets(environ={"CHARTER_SECRET_BENCH_HOST": f"postgresql://postgres@127.0.0.1:5432/{host}"})
        resolver = AffectedResolver(sessions, keyring, secrets)
        with _peak_rss() as memory:
            seconds, result = _timed(lambda: resolver.resolve(cid, incident_id, actor="bench"))
    _check(result.people == people, f"found {result.people} people")
    return [Row("incident", f"seconds to resolve {people:,} affected people", seconds, "s", None, "", "", None),
            Row("incident", "people/s", people / seconds, "/s", None, "", "", None),
            Row("incident", "peak RSS during resolution", memory["peak"] / 1024, "MiB", None, "", "", None),
            Row("incident", "RSS growth during resolution", (memory["peak"] - memory["start"]) / 1024, "MiB",
                None, "", "", None)]


class _Sink:
    """An SMTP server that counts what it receives and keeps nothing."""

    def __init__(self) -> None:
        self.received = 0

    async def handle_DATA(self, _server: Any, _session: Any, _envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        self.received += 1
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@benchmark("outbox", "the outbox draining queued emails to a local SMTP sink")
def outbox(quick: bool) -> list[Row]:
    if not _postgres_up():
        print("outbox: PostgreSQL is not reachable at 127.0.0.1:5432; skipped")
        return []
    count = 10_000 if quick else 100_000
    with _charter("bench_charter") as (_url, sessions, keyring, cid):
        def enqueue() -> None:
            for start in range(0, count, 1000):
                with transaction(sessions) as session:
                    box = Outbox(session, keyring)
                    for n in range(start, min(start + 1000, count)):
                        box.enqueue(cid, channel="email", to=f"p{n}@example.com", template="breach_notice",
                                    params={"elements": [{"label": "Cause", "text": "A backup was exposed"}],
                                            "contact": "dpo@bench.example"}, language="en", actor="bench")

        enqueue_seconds, _ = _timed(enqueue)
        sink, port = _Sink(), _free_port()
        server = SmtpController(sink, hostname="127.0.0.1", port=port)
        server.start()
        try:
            transports = {Channel.EMAIL: SmtpTransport("127.0.0.1", port, mail_from="no-reply@bench.example")}
            sender = OutboxSender(sessions, keyring, transports, retry=RetryPolicy())
            with _peak_rss() as memory:
                seconds, report = _timed(lambda: sender.send_due(batch=500))
        finally:
            server.stop()
    _check(sink.received == count, f"the sink received {sink.received}: {report}")
    return [Row("outbox", f"emails/s draining {count:,} over SMTP", count / seconds, "/s", None, "", "", None),
            Row("outbox", f"seconds to drain {count:,}", seconds, "s", None, "", "", None),
            Row("outbox", f"seconds to queue {count:,} (render, encrypt, audit)", enqueue_seconds, "s", None, "",
                "", None),
            Row("outbox", "peak RSS while draining", memory["peak"] / 1024, "MiB", None, "", "", None)]

