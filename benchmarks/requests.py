"""Request benchmarks (issue 4): data-subject requests carried out by the in-process worker, submit to complete,
side by side with the floor — the bare statements the same plan needs, sent straight through the drivers
(`benchmarks.floor`) — measured in the same run, alternating one request and one floor run.

- `fides sample`: Fides' own PostgreSQL sample (`../shared/peers/fides-sample/`), imported with
  `charter datamap import-fides` (`examples/fides-sample/`), access and erasure, median of 20; then again with
  Charter's own database on PostgreSQL instead of SQLite.
- `cross-store`: the same with orders, order items, logins and visits in MariaDB, and two Redis collections (a
  session hash found from the customer's id, a cart string keyed by email).
- `1M rows`: the sample's shape with 1,000,000 rows in each large table and the indexes a deployment keeps.
- `1,000 erasures back to back` on the sample: total time and the process's peak RSS while they ran.

Each request is for a different copy of the sample's busiest customer (`benchmarks.fides_data`), so every
erasure erases as much as the first. Charter's own database is SQLite in a temp folder (the default deployment)
unless a row says otherwise.
The Fides figures the issue quotes (2.86 on this sample, 2 cores, eager mode: access 1.0–1.4 s, erasure
1.9–3.1 s) were not measured here, so they are named in the metric, not put in the baseline column.

Run: `python -m benchmarks --only requests` (`--quick`: 5 runs, 100 erasures back to back, 50,000 rows).
"""

from __future__ import annotations

import gc
import re
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from tests.factories import make_controller
from tests.services import fresh_mariadb_database, fresh_postgres_database, fresh_redis_prefix

from benchmarks import Row, benchmark
from benchmarks.fides_data import cross_store_map, email, fill, load_sample, move_to_mariadb, sample_map
from benchmarks.floor import Floor
from charter.core.crypto import Keyring
from charter.core.db import make_engine, session_factory
from charter.core.secrets import Secrets
from charter.datamap.connections import ConnectorPool
from charter.datamap.plan import Planner
from charter.datamap.services import DataMapStore, as_datamap
from charter.migrations import upgrade
from charter.policy.services import PolicyStore
from charter.requests.runner import TaskRunner
from charter.requests.services import RequestService
from charter.requests.staff import StaffDesk
from charter.requests.tasks import InProcessWorker
from charter.requests.verification import mint_assertion
from charter.subjects.services import SubjectDirectory

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "fides-sample"
SAMPLE_SECRET = "CHARTER_SECRET_POSTGRES_EXAMPLE_TEST_DATASET"  # noqa: S105 - the variable's name, not a secret
WARM_UP = 2


class Charter:
    """A controller with the sample's policy and a data map, on its own Charter database, and the in-process
    worker `charter serve` runs."""

    def __init__(self, url: str, secrets: dict[str, str], datamap: Callable[[str], str]) -> None:
        upgrade(url)
        self.engine = make_engine(url)
        self.sessions: sessionmaker[Session] = session_factory(self.engine)
        self.keyring = Keyring.generate()
        self.pool = ConnectorPool(Secrets.from_environment(secrets))
        self.worker = InProcessWorker(TaskRunner(self.sessions, self.keyring, self.pool))
        self.worker.start()
        with self.sessions() as session, session.begin():
            self.cid = make_controller(session)
            policy = (EXAMPLE / "policy.yaml").read_text(encoding="utf-8")
            PolicyStore(session).publish(self.cid, policy.replace("id: fides-sample", f"id: {self.cid}"),
                                         source="policy.yaml", actor="bench")
            record = DataMapStore(session).publish(self.cid, datamap(self.cid), source="datamap.yaml",
                                                   actor="bench").record
            self.plan = Planner(as_datamap(record)).plan({"email"})
            self.key = StaffDesk(session, self.keyring).issue_assertion_key(self.cid, actor="bench").value.encode()
        # What lives as long as the process is kept out of the cyclic collector's way, as `charter serve` does once
        # it has started (charter.web.app).
        gc.collect()
        gc.freeze()

    def know(self, people: range) -> None:
        """The host has told Charter about these people (outside the timings)."""
        with self.sessions() as session, session.begin():
            directory = SubjectDirectory(session, self.keyring)
            for person in people:
                directory.resolve(self.cid, "email", email(person), actor="bench")

    def request(self, kind: str, person: int) -> float:
        """Submit (verified by a host assertion) and wait until the worker completed it: seconds."""
        token = mint_assertion(self.key, self.cid, "email", email(person))
        started = time.perf_counter()
        with self.sessions() as session, session.begin():
            RequestService(session, self.keyring, queue=self.worker).submit(self.cid, kind=kind, assertion=token,
                                                                            actor="bench")
        if not self.worker.wait_idle(120):
            raise RuntimeError(f"the {kind} request for person {person} did not finish in 120 s")
        return time.perf_counter() - started

    def close(self) -> None:
        self.worker.stop()
        self.pool.close()
        self.engine.dispose()


@dataclass(frozen=True)
class Medians:
    access: float
    erasure: float
    floor_access: float
    floor_erasure: float


def _compare(charter: Charter, floor: Floor, runs: int, *, first: int = 1) -> Medians:
    """Access then erasure, each `runs` times after a warm-up, alternating Charter and the floor. Charter uses
    people `first`.., the floor the next ones: each erasure finds a person's data untouched."""
    total = WARM_UP + runs
    ours, theirs = range(first, first + total), range(first + total, first + 2 * total)
    charter.know(ours)
    times: dict[str, list[float]] = {"access": [], "erasure": [], "floor_access": [], "floor_erasure": []}
    for kind, bare in (("access", floor.access), ("erasure", floor.erase)):
        for i, (mine, other) in enumerate(zip(ours, theirs, strict=True)):
            spent = charter.request(kind, mine)
            started = time.perf_counter()
            bare(email(other))
            bare_spent = time.perf_counter() - started
            if i >= WARM_UP:
                times[kind].append(spent)
                times[f"floor_{kind}"].append(bare_spent)
    medians = {k: statistics.median(v) * 1000 for k, v in times.items()}
    return Medians(**medians)


def people_needed(runs: int) -> int:
    return 2 * (WARM_UP + runs)


def _rows(name: str, m: Medians, runs: int, *, access: float, erasure: float, note: str = "",
          ratio: float | None = None) -> list[Row]:
    def passed(value: float, floor: float, limit: float) -> bool:
        return value <= limit and (ratio is None or value <= ratio * floor)

    within = f", ≤ {ratio:g}× floor" if ratio is not None else ""
    return [
        Row(name, f"access submit→complete, median of {runs}{note}", m.access, "ms", m.floor_access, "bare SQL",
            target=f"≤ {access:g} ms{within}", passed=passed(m.access, m.floor_access, access)),
        Row(name, f"erasure submit→complete, median of {runs}{note}", m.erasure, "ms", m.floor_erasure, "bare SQL",
            target=f"≤ {erasure:g} ms{within}", passed=passed(m.erasure, m.floor_erasure, erasure)),
    ]


def _peak_rss_reset() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def _status(field: str) -> float:
    found = re.search(rf"^{field}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.MULTILINE)
    return int(found.group(1)) / 1024 if found else float("nan")


def _back_to_back(charter: Charter, people: range) -> list[Row]:
    charter.know(people)
    name = "requests: fides sample"
    before = _status("VmRSS")
    _peak_rss_reset()
    started = time.perf_counter()
    for person in people:
        charter.request("erasure", person)
    total = time.perf_counter() - started
    peak, after = _status("VmHWM"), _status("VmRSS")
    count = len(people)
    return [
        Row(name, f"{count:,} erasures back to back: total", total, "s"),
        Row(name, f"{count:,} erasures back to back: per erasure", total / count * 1000, "ms"),
        Row(name, f"{count:,} erasures back to back: peak RSS (whole process)", peak, "MB"),
        Row(name, f"{count:,} erasures back to back: RSS growth", after - before, "MB"),
    ]


@contextmanager
def _charter(secrets: dict[str, str], datamap: Callable[[str], str], *, own: str = "sqlite") -> Iterator[Charter]:
    """Charter on its own database: SQLite in a temp folder (the default deployment) or a fresh PostgreSQL one."""
    with tempfile.TemporaryDirectory() as folder, _own_database(own, Path(folder)) as url:
        charter = Charter(url, secrets, datamap)
        try:
            yield charter
        finally:
            charter.close()


@contextmanager
def _own_database(kind: str, folder: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'charter.db'}"
        return
    with fresh_postgres_database() as url:
        yield url


def _sample_text() -> str:
    return (EXAMPLE / "datamap.yaml").read_text(encoding="utf-8")


def fides_sample(runs: int, bulk: int) -> list[Row]:
    name = "requests: fides sample"
    needed = people_needed(runs)
    with fresh_postgres_database() as sample:
        load_sample(sample, 2 * needed + bulk)
        secrets = {SAMPLE_SECRET: sample}
        with _charter(secrets, lambda cid: sample_map(_sample_text(), cid)) as charter:
            floor = Floor(charter.plan, postgres=sample)
            try:
                medians = _compare(charter, floor, runs)
            finally:
                floor.close()
            rows = _rows(name, medians, runs, access=50, erasure=100, note=" (Fides 2.86: 1.0–1.4 s / 1.9–3.1 s)")
            rows += _back_to_back(charter, range(2 * needed + 1, 2 * needed + bulk + 1))
        # The same on Charter's own database on PostgreSQL, as a larger deployment runs it (other people).
        with _charter(secrets, lambda cid: sample_map(_sample_text(), cid), own="postgresql") as charter:
            floor = Floor(charter.plan, postgres=sample)
            try:
                medians = _compare(charter, floor, runs, first=needed + 1)
            finally:
                floor.close()
        rows[2:2] = _rows(name, medians, runs, access=50, erasure=100, note=", Charter's own database on PostgreSQL")
        return rows


def cross_store(runs: int) -> list[Row]:
    needed = people_needed(runs)
    with fresh_postgres_database() as sample, fresh_mariadb_database() as maria, \
            fresh_redis_prefix() as (redis_url, prefix):
        load_sample(sample, needed)
        move_to_mariadb(sample, maria, redis_url, prefix, needed)
        secrets = {SAMPLE_SECRET: sample, "CHARTER_SECRET_FIDES_MARIA": maria, "CHARTER_SECRET_FIDES_REDIS": redis_url}
        with _charter(secrets, lambda cid: cross_store_map(_sample_text(), cid, prefix)) as charter:
            parsed = make_url(maria)
            floor = Floor(charter.plan, postgres=sample, redis_url=redis_url, mariadb={
                "host": parsed.host, "port": parsed.port or 3306, "user": parsed.username,
                "password": parsed.password or "", "database": parsed.database})
            try:
                medians = _compare(charter, floor, runs)
            finally:
                floor.close()
    return _rows("requests: cross-store", medians, runs, access=50, erasure=100,
                 note=" (PostgreSQL + MariaDB + Redis; targets as for one store)")


def million(runs: int, rows: int) -> list[Row]:
    needed = people_needed(runs)
    with fresh_postgres_database() as sample:
        load_sample(sample, needed)
        started = time.perf_counter()
        fill(sample, rows)
        loaded = time.perf_counter() - started
        with _charter({SAMPLE_SECRET: sample}, lambda cid: sample_map(_sample_text(), cid)) as charter:
            floor = Floor(charter.plan, postgres=sample)
            try:
                medians = _compare(charter, floor, runs)
            finally:
                floor.close()
    name = f"requests: {rows:,} rows" if rows != 1_000_000 else "requests: 1M rows"
    return [*_rows(name, medians, runs, access=200, erasure=400, ratio=5, note=" (each large table)"),
            Row(name, "generating the rows and indexes (not timed against a target)", loaded, "s")]


@benchmark("requests", "data-subject requests (Fides sample, cross-store, 1M rows), in-process worker vs bare SQL")
def run(quick: bool) -> list[Row]:
    runs, bulk, rows = (5, 100, 50_000) if quick else (20, 1000, 1_000_000)
    return [*fides_sample(runs, bulk), *cross_store(runs), *million(runs, rows)]
