"""The admin console's consent statistics on PostgreSQL (`charter.consent.stats`): per-purpose grants, refusals and
withdrawals, granted now, and the re-consent rate after a policy change needing fresh consent, over a ledger of N
events written through the ledger's own write path (the Lubpur policy; a second version widens `analytics`, the
sweep sets aside its standing grants, half of those people grant again). Measured: the statistics for all time
and for the last 30 days (median of 5), against the same figures computed in Python from every event row fetched
(the same run, the same database). `--quick` uses 100,000 events instead of 1,000,000.
Needs PostgreSQL at 127.0.0.1:5432 (user postgres, trust)."""

from __future__ import annotations

import datetime as dt
import socket
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import yaml
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from benchmarks import Row, benchmark
from charter.accounts.services import ControllerService
from charter.consent.models import ConsentEvent, ConsentState
from charter.consent.schemas import ConsentIn
from charter.consent.services import ConsentLedger
from charter.consent.stats import consent_statistics
from charter.core.crypto import Keyring
from charter.core.db import make_engine, session_factory, transaction, utcnow
from charter.decisions.services import load_terms
from charter.migrations import upgrade
from charter.policy.services import PolicyStore
from charter.subjects.models import Subject

LUBPUR = Path(__file__).resolve().parents[1] / "examples" / "lubpur" / "policy.yaml"
ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
PURPOSES = ("analytics", "personalisation", "marketing_email", "email_tracking")
ACTIONS = ("grant", "grant", "refuse", "withdraw")
BATCH = 1_000


def _postgres_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


def _policy(controller_id: str, *, widened: bool) -> str:
    doc: dict[str, Any] = yaml.safe_load(LUBPUR.read_text(encoding="utf-8"))
    doc["controller"]["id"] = controller_id
    if widened:
        doc["version"], doc["effective"] = "bench-2", "2024-06-01"
        analytics = next(p for p in doc["purposes"] if p["id"] == "analytics")
        analytics["categories"].append("identity.ip")
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


def _ledger(sessions: Any, keyring: Keyring, controller_id: str, events: int) -> None:
    people = max(events // 20, 10)
    with transaction(sessions) as s:
        ControllerService(s).create(controller_id, "Bench", actor="bench")
        PolicyStore(s).publish(controller_id, _policy(controller_id, widened=False), source="bench", actor="bench")
        subjects = [str(uuid.uuid4()) for _ in range(people)]
        s.add_all(Subject(id=sid, controller_id=controller_id) for sid in subjects)
    with sessions() as s:
        terms = load_terms(s, controller_id, dt.date.today())
    for start in range(0, events, BATCH):
        items = [ConsentIn(subject_id=subjects[n % people], purpose=PURPOSES[(n // people) % len(PURPOSES)],
                           action=ACTIONS[(n * 7 + n // people) % len(ACTIONS)])
                 for n in range(start, min(start + BATCH, events))]
        with transaction(sessions) as s:
            ConsentLedger(s, keyring).record_many(controller_id, items, terms, actor="bench", is_batch=True)
    with transaction(sessions) as s:
        PolicyStore(s).publish(controller_id, _policy(controller_id, widened=True), source="bench", actor="bench")
    with transaction(sessions) as s:
        asked = ConsentLedger(s, keyring).supersede_outdated(controller_id, load_terms(s, controller_id,
                                                                                       dt.date.today()),
                                                             actor="bench")
    with sessions() as s:
        terms = load_terms(s, controller_id, dt.date.today())
    again = [r.subject_id for r in asked[::2]]
    for start in range(0, len(again), BATCH):
        with transaction(sessions) as s:
            ConsentLedger(s, keyring).record_many(controller_id, [
                ConsentIn(subject_id=sid, purpose="analytics") for sid in again[start:start + BATCH]], terms,
                actor="bench", is_batch=True)


def _in_python(session: Session, controller_id: str, since: dt.datetime | None) -> tuple[Counter[Any], int, int]:
    """The baseline: every event row fetched, the same figures counted in Python."""
    rows = session.execute(select(ConsentEvent.purpose, ConsentEvent.action, ConsentEvent.subject_id,
                                  ConsentEvent.seq, ConsentEvent.at)
                           .where(ConsentEvent.controller_id == controller_id).order_by(ConsentEvent.seq)).all()
    counts: Counter[Any] = Counter((p, a) for p, a, _s, _q, at in rows if since is None or at >= since)
    last_grant: dict[tuple[Any, str], int] = {}
    for purpose, action, subject, seq, _at in rows:
        if action in ("grant", "guardian_grant"):
            last_grant[subject, purpose] = seq
    asked = [(p, s, q) for p, a, s, q, at in rows if a == "supersede" and (since is None or at >= since)]
    regranted = sum(1 for p, s, q in asked if s is not None and last_grant.get((s, p), 0) > q)
    now = utcnow()
    granted = session.execute(select(ConsentState.purpose).where(ConsentState.controller_id == controller_id,
                                                                 ConsentState.status == "granted",
                                                                 (ConsentState.valid_until.is_(None))
                                                                 | (ConsentState.valid_until > now))).all()
    return counts, len(asked) + regranted, len(granted)


def _median(call: Callable[[], object], times: int = 5) -> float:
    spent = []
    for _ in range(times):
        started = time.perf_counter()
        call()
        spent.append(time.perf_counter() - started)
    return statistics.median(spent)


@benchmark("consent_stats", "consent statistics per purpose on PostgreSQL: GROUP BY in SQL vs counting in Python")
def run(quick: bool) -> list[Row]:
    if not _postgres_up():
        print("  PostgreSQL is not reachable at 127.0.0.1:5432; skipping the consent statistics benchmark")
        return []
    events = 100_000 if quick else 1_000_000
    name = f"charter_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    try:
        upgrade(url)
        engine = make_engine(url)
        sessions = session_factory(engine)
        keyring = Keyring.generate()
        _ledger(sessions, keyring, "bench", events)
        with engine.begin() as conn:  # committed: statistics gathered in a rolled-back transaction are lost
            conn.execute(text("ANALYZE"))
        month = utcnow() - dt.timedelta(days=30)
        with sessions() as s:
            total = s.execute(text("SELECT count(*) FROM consent_events WHERE controller_id = 'bench'")).scalar_one()
            all_time = _median(lambda: consent_statistics(s, "bench", now=utcnow()))
            last_month = _median(lambda: consent_statistics(s, "bench", since=month, now=utcnow()))
            python_all = _median(lambda: _in_python(s, "bench", None), times=3)
        engine.dispose()
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    ms = 1000
    return [
        Row("consent_stats", f"statistics page, all time, {total:,} ledger events", all_time * ms, "ms",
            python_all * ms, "every event fetched and counted in Python", "≤ 2 s", all_time <= 2),
        Row("consent_stats", f"statistics page, last 30 days, {total:,} ledger events", last_month * ms, "ms"),
    ]
