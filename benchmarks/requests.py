"""Request benchmarks (issue 4) on Fides' own PostgreSQL sample: access and erasure submit-to-complete with the
in-process worker (median of 20), and 1,000 erasures back to back (total time, peak memory).

Charter's own database is SQLite in a temp folder (the default deployment); the sample lives in a fresh
PostgreSQL database loaded from `postgres_sample.sql`. Run: `python -m benchmarks.requests`.
The consent branch brings the shared `benchmarks/` registry; these join it after the merge.
"""

from __future__ import annotations

import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import psycopg
from sqlalchemy.orm import Session, sessionmaker
from tests.datamap.fides_paths import SQL
from tests.factories import make_controller
from tests.services import fresh_postgres_database

from charter.core.crypto import Keyring
from charter.core.db import make_engine, session_factory
from charter.core.secrets import Secrets
from charter.datamap.connections import ConnectorPool
from charter.datamap.services import DataMapStore
from charter.migrations import upgrade
from charter.policy.services import PolicyStore
from charter.requests.runner import TaskRunner
from charter.requests.services import RequestService
from charter.requests.staff import StaffDesk
from charter.requests.tasks import InProcessWorker
from charter.requests.verification import mint_assertion
from charter.subjects.services import SubjectDirectory

ROOT = Path(__file__).resolve().parents[1]
RUNS = 20
BULK = 1000


def _load(url: str, extra: int) -> None:
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(SQL.read_text(encoding="utf-8"))  # type: ignore[arg-type]
        if extra:
            conn.execute("INSERT INTO public.customer (id, email, name, created, address_id) "
                         "SELECT 100 + g, 'bulk-' || g || '@example.com', 'Bulk ' || g, now(), 1 "
                         "FROM generate_series(1, %s) g", (extra,))


class Bench:
    def __init__(self, sample_url: str, folder: Path) -> None:
        url = f"sqlite:///{folder / 'charter.db'}"
        upgrade(url)
        self.engine = make_engine(url)
        self.sessions: sessionmaker[Session] = session_factory(self.engine)
        self.keyring = Keyring.generate()
        self.pool = ConnectorPool(Secrets.from_environment({"CHARTER_SECRET_POSTGRES_EXAMPLE_TEST_DATASET":
                                                            sample_url}))
        self.worker = InProcessWorker(TaskRunner(self.sessions, self.keyring, self.pool), threads=1)
        self.worker.start()
        with self.sessions() as session, session.begin():
            self.cid = make_controller(session)
            policy = (ROOT / "examples/fides-sample/policy.yaml").read_text(encoding="utf-8")
            datamap = (ROOT / "examples/fides-sample/datamap.yaml").read_text(encoding="utf-8")
            PolicyStore(session).publish(self.cid, policy.replace("id: fides-sample", f"id: {self.cid}"),
                                         source="policy.yaml", actor="bench")
            DataMapStore(session).publish(self.cid, datamap.replace("controller: fides-sample",
                                                                    f"controller: {self.cid}"),
                                          source="datamap.yaml", actor="bench")
            self.key = StaffDesk(session, self.keyring).issue_assertion_key(self.cid, actor="bench").value.encode()

    def subject(self, email: str) -> None:
        with self.sessions() as session, session.begin():
            SubjectDirectory(session, self.keyring).resolve(self.cid, "email", email, actor="bench")

    def request(self, kind: str, email: str) -> float:
        """Submit (verified by a host assertion) and wait until the in-process worker completed it: seconds."""
        token = mint_assertion(self.key, self.cid, "email", email)
        started = time.perf_counter()
        with self.sessions() as session, session.begin():
            RequestService(session, self.keyring, queue=self.worker).submit(self.cid, kind=kind, assertion=token,
                                                                            actor="bench")
        self.worker.wait_idle(60)
        return time.perf_counter() - started

    def close(self) -> None:
        self.worker.stop()
        self.pool.close()
        self.engine.dispose()


def _median_ms(run: Callable[[], float]) -> float:
    return statistics.median(run() for _ in range(RUNS)) * 1000


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as folder, fresh_postgres_database() as sample:
        _load(sample, BULK)
        bench = Bench(sample, Path(folder))
        bench.subject("customer-1@example.com")
        access = _median_ms(lambda: bench.request("access", "customer-1@example.com"))
        rows.append(("fides sample: access, submit→complete (median of 20)", access, 1200.0, 50.0, "ms"))
        erasure = _median_ms(lambda: bench.request("erasure", "customer-1@example.com"))
        rows.append(("fides sample: erasure, submit→complete (median of 20)", erasure, 2500.0, 100.0, "ms"))
        for g in range(1, BULK + 1):
            bench.subject(f"bulk-{g}@example.com")
        tracemalloc.start()
        started = time.perf_counter()
        for g in range(1, BULK + 1):
            bench.request("erasure", f"bulk-{g}@example.com")
        total = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
        rows.append((f"{BULK} erasures back to back: total", total, float("nan"), float("nan"), "s"))
        rows.append((f"{BULK} erasures back to back: peak traced memory", peak, float("nan"), float("nan"), "MB"))
        bench.close()
    print(f"{'benchmark':58} {'value':>10} {'baseline':>10} {'ratio':>7} {'target':>8}  result")
    for name, value, baseline, target, unit in rows:
        ratio = baseline / value if baseline == baseline else float("nan")
        verdict = "" if target != target else ("PASS" if value <= target else "MISS")
        print(f"{name:58} {value:>8.1f}{unit:>2} {baseline:>10.0f} {ratio:>7.1f} {target:>8.0f}  {verdict}")


if __name__ == "__main__":
    main()
