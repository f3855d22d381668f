"""The sweep: apply every dataset's retention rule through the connectors, chunk by chunk, holds respected.

It owns its transactions, like the outbox sender: one short one to read the data map, the holds and the held
people's identities, none while the stores are swept, one to record the run and its audit event. A failing
collection is reported and the others still swept.

```python
sweep = RetentionSweep(sessions, keyring, Secrets.from_environment())
report = sweep.run("acme", actor="cli")            # or dry_run=True: count, change nothing
report.rows_deleted, report.outcomes[0].status
```
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from charter.audit.services import AuditLog
from charter.connectors.base import ErasureRecord, Lookup, Row, Scalar
from charter.core.crypto import Keyring
from charter.core.db import transaction, utcnow
from charter.core.errors import CharterError
from charter.core.secrets import Secrets
from charter.datamap.connections import ConnectorPool
from charter.datamap.models import DataMapVersionRecord
from charter.datamap.plan import Planner, resolve_lookup
from charter.datamap.schema import DataMap
from charter.datamap.services import DataMapStore, as_datamap
from charter.retention.models import RetentionRun
from charter.retention.rules import (
    DEFAULT_CHUNK,
    HoldScope,
    SweepTarget,
    TargetStatus,
    shutdown_targets,
    sweep_targets,
)
from charter.retention.services import LegalHolds
from charter.subjects.services import SubjectDirectory

__all__ = ["Outcome", "RetentionSweep", "SweepProgress", "SweepReport"]

SWEEP_ACTOR = "retention-sweep"
log = logging.getLogger(__name__)


@dataclass
class Outcome:
    key: str
    rule: str
    status: TargetStatus
    rows_deleted: int = 0
    rows_changed: int = 0
    holds: tuple[str, ...] = ()
    error: str | None = None
    cutoff: dt.datetime | None = None

    def as_json(self) -> dict[str, object]:
        return {"collection": self.key, "rule": self.rule, "status": self.status.value,
                "rows_deleted": self.rows_deleted, "rows_changed": self.rows_changed, "holds": list(self.holds),
                "error": self.error, "cutoff": self.cutoff.isoformat() if self.cutoff else None}


@dataclass
class SweepReport:
    run_id: str
    controller_id: str
    kind: str
    is_dry_run: bool
    datamap_version: str
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def rows_deleted(self) -> int:
        return sum(o.rows_deleted for o in self.outcomes)

    @property
    def rows_changed(self) -> int:
        return sum(o.rows_changed for o in self.outcomes)

    @property
    def errors(self) -> int:
        return sum(o.error is not None for o in self.outcomes)

    @property
    def held(self) -> dict[str, tuple[str, ...]]:
        """Collection → the holds that kept all or some of its rows."""
        return {o.key: o.holds for o in self.outcomes if o.holds}


class SweepProgress(Protocol):
    """What the CLI's progress bar hears; `estimate` is the rows a dry run counted (None when not counted)."""

    def started(self, target: SweepTarget, estimate: int | None) -> None: ...

    def advanced(self, target: SweepTarget, record: ErasureRecord) -> None: ...

    def finished(self, target: SweepTarget, outcome: Outcome) -> None: ...


@dataclass(frozen=True)
class _Loaded:
    datamap: DataMap
    version: str
    holds: list[HoldScope]
    identities: dict[str, dict[str, list[str]]]
    """Held subject id → identity kind → values, to find their rows."""


TargetsOf = Callable[[DataMap, list[HoldScope], dt.datetime], list[SweepTarget]]


class RetentionSweep:
    def __init__(self, sessions: sessionmaker[Session], keyring: Keyring, secrets: Secrets, *,
                 clock: Callable[[], dt.datetime] = utcnow, chunk_size: int = DEFAULT_CHUNK,
                 progress: SweepProgress | None = None, estimate: bool = False) -> None:
        self.sessions = sessions
        self.keyring = keyring
        self.secrets = secrets
        self.clock = clock
        self.chunk_size = chunk_size
        self.progress = progress
        self.estimate = estimate
        """Count each collection's expired rows first, so a progress bar knows its total."""

    def run(self, controller_id: str, *, dry_run: bool = False, actor: str = SWEEP_ACTOR) -> SweepReport:
        """Apply the retention rules of the controller's current data map."""
        return self._execute(controller_id, "sweep", sweep_targets, dry_run=dry_run, actor=actor)

    def cease(self, controller_id: str, *, dry_run: bool = False, actor: str = SWEEP_ACTOR) -> SweepReport:
        """Erase or anonymise every row of every dataset (ceasing operations); holds in force still keep theirs."""
        return self._execute(controller_id, "shutdown", shutdown_targets, dry_run=dry_run, actor=actor)

    def run_all(self, *, dry_run: bool = False, actor: str = SWEEP_ACTOR) -> list[SweepReport]:
        """Sweep every controller that has published a data map."""
        with transaction(self.sessions) as session:
            ids = list(session.execute(select(DataMapVersionRecord.controller_id).distinct()).scalars())
        reports = []
        for cid in sorted(ids):
            try:
                reports.append(self.run(cid, dry_run=dry_run, actor=actor))
            except Exception:
                # One controller's failure (its keyring entry, its database) must not stop the others' sweeps.
                log.exception("retention sweep of controller %s failed", cid)
        return reports

    # ---------------------------------------------------------------------------------------------------------

    def _execute(self, controller_id: str, kind: str, targets_of: TargetsOf, *, dry_run: bool,
                 actor: str) -> SweepReport:
        now = self.clock()
        loaded = self._load(controller_id, now)
        report = SweepReport(str(uuid.uuid4()), controller_id, kind, dry_run, loaded.version, now)
        targets = targets_of(loaded.datamap, loaded.holds, now)
        with ConnectorPool(self.secrets) as pool:
            held = _HeldRows(loaded, pool)
            report.outcomes = [self._sweep(pool, target, held, dry_run=dry_run) for target in targets]
        report.finished_at = self.clock()
        with transaction(self.sessions) as session:
            self._record(session, report, actor)
        return report

    def _load(self, controller_id: str, now: dt.datetime) -> _Loaded:
        with transaction(self.sessions) as session:
            record = DataMapStore(session).current(controller_id)
            holds = LegalHolds(session, self.keyring).in_force(controller_id, now)
            directory = SubjectDirectory(session, self.keyring)
            identities: dict[str, dict[str, list[str]]] = {}
            for subject_id in {h.subject_id for h in holds if h.subject_id is not None}:
                values: dict[str, list[str]] = {}
                for identity in directory.identities(controller_id, subject_id):
                    values.setdefault(identity.kind.value, []).append(identity.value)
                identities[subject_id] = values
            return _Loaded(as_datamap(record), record.version, holds, identities)

    def _sweep(self, pool: ConnectorPool, target: SweepTarget, held: _HeldRows, *, dry_run: bool) -> Outcome:
        outcome = Outcome(target.key, target.rule, target.status, holds=target.holds, cutoff=target.cutoff)
        if target.status is not TargetStatus.SWEEP:
            return outcome
        try:
            keep = held.lookup_for(target)
            connector = pool.get(target.connection)
            expiry = target.expiry(keep=keep, chunk_size=self.chunk_size)
            estimate = None
            if self.estimate and not dry_run:
                counted = list(connector.expire(target.collection, expiry, dry_run=True))
                estimate = sum(r.rows_deleted + r.rows_changed for r in counted)
            if self.progress:
                self.progress.started(target, estimate)
            for record in connector.expire(target.collection, expiry, dry_run=dry_run):
                outcome.rows_deleted += record.rows_deleted
                outcome.rows_changed += record.rows_changed
                if self.progress:
                    self.progress.advanced(target, record)
        except CharterError as exc:
            outcome.error = exc.message
        if self.progress:
            self.progress.finished(target, outcome)
        return outcome

    def _record(self, session: Session, report: SweepReport, actor: str) -> None:
        finished = report.finished_at or report.started_at
        session.add(RetentionRun(
            id=report.run_id, controller_id=report.controller_id, kind=report.kind, is_dry_run=report.is_dry_run,
            datamap_version=report.datamap_version, started_at=report.started_at, finished_at=finished,
            rows_deleted=report.rows_deleted, rows_changed=report.rows_changed, errors=report.errors,
            outcomes=[o.as_json() for o in report.outcomes], actor=actor))
        session.flush()
        if not report.is_dry_run:
            LegalHolds(session, self.keyring).lift_lapsed(report.controller_id, report.started_at, actor=actor)
        action = {"sweep": "retention.swept", "shutdown": "retention.shutdown_erased"}[report.kind]
        if report.is_dry_run:
            action = f"{action}_dry_run"
        AuditLog(session).record(report.controller_id, actor=actor, action=action,
                                 target=f"retention_run:{report.run_id}",
                                 data={"datamap_version": report.datamap_version, "rows_deleted": report.rows_deleted,
                                       "rows_changed": report.rows_changed, "errors": report.errors,
                                       "held": {k: list(v) for k, v in report.held.items()}})


class _HeldRows:
    """Finds, through the connectors, the rows of each person a hold covers: the sweep leaves them alone.

    Their rows are found as an access request would find them (parents first, then the collections reached from
    them), once per sweep, and only for people with a hold.
    """

    def __init__(self, loaded: _Loaded, pool: ConnectorPool) -> None:
        self.loaded = loaded
        self.pool = pool
        self.planner = Planner(loaded.datamap)
        self._found: dict[str, dict[str, tuple[Row, ...]]] = {}

    def lookup_for(self, target: SweepTarget) -> Lookup | None:
        if not target.subject_holds:
            return None
        values: dict[str, dict[Scalar, None]] = {}
        for subject_id in dict.fromkeys(h.subject_id for h in target.subject_holds if h.subject_id):
            lookup = self._lookup(subject_id, target.key)
            for name, found in lookup.values.items():
                values.setdefault(name, {}).update(dict.fromkeys(found))
        return Lookup(values={name: tuple(v) for name, v in values.items()})

    def _lookup(self, subject_id: str, key: str) -> Lookup:
        identities = self.loaded.identities.get(subject_id, {})
        if not identities:
            return Lookup(values={})
        found = self._rows(subject_id, identities)
        task = next((t for t in self.planner.plan(identities).access if t.key == key), None)
        return resolve_lookup(task, identities, found) if task else Lookup(values={})

    def _rows(self, subject_id: str, identities: Mapping[str, Iterable[str]]) -> dict[str, tuple[Row, ...]]:
        if subject_id in self._found:
            return self._found[subject_id]
        found: dict[str, tuple[Row, ...]] = {}
        for task in self.planner.plan(identities).access:
            try:
                connector = self.pool.get(task.connection)
            except CharterError as exc:
                raise CharterError(f"cannot find the rows a legal hold keeps in {task.key}: {exc.message}",
                                   fix="Nothing was erased there; make the store reachable and sweep again.") from exc
            found[task.key] = connector.retrieve(task.collection, resolve_lookup(task, identities, found)).rows
        self._found[subject_id] = found
        return found

