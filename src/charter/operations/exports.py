"""De-identified exports: stream a collection through its connector, de-identify each row (`deidentify`), check
that no direct identifier survives, and write CSV — to a temporary file that only becomes the export when every
row passed. A row that fails refuses the whole export and nothing is left behind. The export is logged as
de-identified, with what was done to each column and the file's hash.

    DeidentifiedExporter(sessions, keyring, secrets).export("acme", "shop_db.orders", Path("orders.csv"),
                                                            generalise={"created_at": year}, actor="analyst")
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from charter.audit.services import AuditLog
from charter.connectors.base import ErasureSpec, Scan, StoreKind
from charter.core.crypto import Keyring
from charter.core.db import transaction, utcnow
from charter.core.errors import CharterError
from charter.core.secrets import Secrets
from charter.datamap.connections import open_connector
from charter.datamap.schema import Collection, Dataset
from charter.datamap.services import DataMapStore, as_datamap
from charter.datamap.specs import collection_spec, connection_spec
from charter.operations.deidentify import Column, Treatment, find_direct_identifier, plan_columns, transform
from charter.operations.models import DeidentifiedExport

__all__ = ["DeidentifiedExporter", "ExportRefused", "ExportResult"]


class ExportRefused(CharterError):
    code = "export_refused"


@dataclass(frozen=True)
class ExportResult:
    export_id: str | None
    """None for a dry run."""
    rows: int
    columns: list[Column]
    sha256: str | None


class DeidentifiedExporter:
    def __init__(self, sessions: sessionmaker[Session], keyring: Keyring, secrets: Secrets, *,
                 page_size: int = 5_000, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.sessions = sessions
        self.keyring = keyring
        self.secrets = secrets
        self.page_size = page_size
        self.clock = clock

    def export(self, controller_id: str, collection: str, out: Path, *, actor: str,
               generalise: Mapping[str, ErasureSpec] | None = None, dry_run: bool = False) -> ExportResult:
        """Write `collection` (`dataset.collection`) de-identified to `out` as CSV; with `dry_run`, check every
        row and write nothing."""
        with transaction(self.sessions) as session:
            dataset, found = self._find(session, controller_id, collection)
        columns = plan_columns(found, generalise or {})
        export_id = str(uuid.uuid4())
        temporary = out.with_name(out.name + ".partial")
        try:
            rows, digest = self._write(controller_id, export_id, dataset, found, columns=columns,
                                       path=None if dry_run else temporary)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        if dry_run:
            return ExportResult(None, rows, columns, None)
        temporary.replace(out)
        with transaction(self.sessions) as session:
            described = {c.name: c.description for c in columns}
            session.add(DeidentifiedExport(id=export_id, controller_id=controller_id, collection=collection,
                                           rows=rows, columns=described, sha256=digest, created_by=actor))
            session.flush()
            AuditLog(session).record(controller_id, actor=actor, action="export.deidentified",
                                     target=f"export:{export_id}",
                                     data={"collection": collection, "rows": rows, "columns": described,
                                           "sha256": digest})
        return ExportResult(export_id, rows, columns, digest)

    def _find(self, session: Session, controller_id: str, key: str) -> tuple[Dataset, Collection]:
        datamap = as_datamap(DataMapStore(session).current(controller_id))
        dataset_id, _, name = key.partition(".")
        dataset = datamap.dataset(dataset_id)
        found = dataset.collection(name) if dataset else None
        if dataset is None or found is None:
            raise CharterError(f"the data map has no collection {key!r}", field="collection",
                               fix="Name it as `dataset.collection` (see `charter datamap plan`).")
        if dataset.kind is StoreKind.MANUAL:
            raise CharterError(f"{key} is a manual store: Charter cannot read it", field="collection")
        return dataset, found

    def _write(self, controller_id: str, export_id: str, dataset: Dataset, collection: Collection, *,
               columns: list[Column], path: Path | None) -> tuple[int, str]:
        identities = [f.name for f in collection.fields if f.identity is not None]
        kept = [c.name for c in columns if c.treatment is not Treatment.DROP]
        pseudonymised = [c.name for c in columns if c.treatment is Treatment.PSEUDONYMISE]
        spec = collection_spec(dataset, collection)
        digest, rows = hashlib.sha256(), 0
        scope = f"{controller_id}:export:{export_id}"

        def pseudonym(column: str, value: Any) -> str:
            # The key stays in Charter's keyring: the receiver cannot go back, the controller can.
            return "psd:" + self.keyring.blind_index(scope, json.dumps([column, str(value)]))[:24]

        sink: contextlib.AbstractContextManager[Any] = (path.open("w", encoding="utf-8", newline="") if path
                                                        else contextlib.nullcontext(None))
        with open_connector(connection_spec(dataset), self.secrets) as connector, sink as handle:
            writer = csv.DictWriter(handle, fieldnames=kept, lineterminator="\n") if handle else None
            if writer:
                writer.writeheader()
            scan = Scan(fields=tuple(f.name for f in collection.fields), chunk_size=self.page_size)
            for page in connector.scan(spec, scan):
                for row in page:
                    rows += 1
                    out = transform(row, columns, pseudonym)
                    own = [str(row[name]) for name in identities if row.get(name) is not None]
                    hit = find_direct_identifier(out, own, pseudonymised)
                    if hit is not None:
                        raise ExportRefused(
                            f"row {rows}, column {hit[0]} holds what looks like {hit[1]}: a direct identifier would "
                            "survive, so nothing was exported", field=hit[0],
                            fix=f"Generalise {hit[0]} (--generalise {hit[0]}=…), or fix the data map so the field "
                                "is declared with its category or identity and is dropped.")
                    if writer:
                        writer.writerow({k: _cell(v) for k, v in out.items()})
        if path is not None:
            with path.open("rb") as written:
                for block in iter(lambda: written.read(1 << 20), b""):
                    digest.update(block)
        return rows, digest.hexdigest()


def _cell(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value
