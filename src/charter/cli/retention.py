"""`charter retention …`: sweep (with a progress bar and a summary), legal holds, past runs."""

from __future__ import annotations

import datetime as dt
import getpass
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from charter.cli.shell import console, database, fail, keyring, unit_of_work
from charter.connectors.base import ErasureRecord
from charter.core.errors import CharterError
from charter.core.secrets import Secrets
from charter.retention import LegalHolds, Outcome, RetentionRuns, RetentionSweep, SweepReport, SweepTarget
from charter.subjects.services import SubjectDirectory

app = typer.Typer(help="Retention: sweeps that apply each dataset's rule, and legal holds.", no_args_is_help=True)

ControllerOpt = Annotated[str, typer.Option("--controller", help="the controller id")]


def who() -> str:
    """The operator, for records that say who did something."""
    try:
        return f"cli:{getpass.getuser()}"
    except OSError:
        return "cli"


class BarProgress:
    """A Rich progress bar per collection; its total is the dry-run count of expired rows."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}

    def started(self, target: SweepTarget, estimate: int | None) -> None:
        self.tasks[target.key] = self.progress.add_task(target.key, total=estimate or None)

    def advanced(self, target: SweepTarget, record: ErasureRecord) -> None:
        self.progress.advance(self.tasks[target.key], record.rows_deleted + record.rows_changed)

    def finished(self, target: SweepTarget, outcome: Outcome) -> None:
        task = self.tasks.get(target.key)
        if task is not None:
            self.progress.update(task, total=outcome.rows_deleted + outcome.rows_changed,
                                 completed=outcome.rows_deleted + outcome.rows_changed)


def summary(report: SweepReport) -> Table:
    verb = "would " if report.is_dry_run else ""
    table = Table("collection", "rule", "status", f"{verb}delete", f"{verb}anonymise", "holds", "note",
                  title=f"{report.controller_id}: {report.kind} {report.run_id} (data map {report.datamap_version})")
    for o in report.outcomes:
        table.add_row(o.key, o.rule, o.status.value, str(o.rows_deleted), str(o.rows_changed), ", ".join(o.holds),
                      f"[red]{o.error}[/]" if o.error else (f"before {o.cutoff:%Y-%m-%d %H:%M}" if o.cutoff else ""))
    table.add_row("[bold]total[/]", "", "", str(report.rows_deleted), str(report.rows_changed), "",
                  f"{report.errors} error(s)" if report.errors else "")
    return table


@app.command()
def sweep(
    *,
    controller: Annotated[str | None, typer.Option(help="one controller; all with a data map when omitted")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="count what would be erased; change nothing")] = False,
    chunk_size: Annotated[int, typer.Option(help="rows per statement and transaction")] = 10_000,
) -> None:
    """Apply every dataset's retention rule through the connectors, in chunks; legal holds keep what they cover.

    Example: `charter retention sweep --controller lubpur --dry-run`
    """
    with database() as sessions, Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                          TimeElapsedColumn(), console=console) as progress:
        runner = RetentionSweep(sessions, keyring(), Secrets.from_environment(), chunk_size=chunk_size,
                                progress=BarProgress(progress), estimate=not dry_run)
        actor = who()
        reports = [runner.run(controller, dry_run=dry_run, actor=actor)] if controller else \
            runner.run_all(dry_run=dry_run, actor=actor)
    for report in reports:
        console.print(summary(report))
    if not reports:
        console.print("no controller has published a data map: nothing to sweep")
    if any(r.errors for r in reports):
        raise typer.Exit(1)


@app.command()
def hold(
    *,
    controller: ControllerOpt,
    dataset: Annotated[str, typer.Option(help="the data map's dataset the hold covers")],
    reason: Annotated[str, typer.Option(help="why the data must be kept (case, law, authority's order)")],
    until: Annotated[dt.datetime, typer.Option(help="when the hold ends (UTC), e.g. 2026-06-30")],
    collection: Annotated[str | None, typer.Option(help="only this collection of the dataset")] = None,
    subject_email: Annotated[str | None, typer.Option(help="only this person's rows (by email)")] = None,
    subject_id: Annotated[str | None, typer.Option(help="only this person's rows (by Charter subject id)")] = None,
    by: Annotated[str | None, typer.Option(help="who places the hold (default: the operator)")] = None,
) -> None:
    """Place a legal hold: deletion of what it covers is suspended until it ends.

    Example: `charter retention hold --controller lubpur --dataset lubpur_db --collection purchase_requests
    --reason "Tax audit 2025-17" --until 2026-06-30`
    """
    with unit_of_work() as session:
        if subject_email is not None:
            found = SubjectDirectory(session, keyring()).find(controller, "email", subject_email)
            if found is None:
                raise fail(CharterError("no person with that email is known to Charter", field="subject_email"))
            subject_id = found.id
        placed = LegalHolds(session, keyring()).place(
            controller, dataset=dataset, collection=collection, subject_id=subject_id, reason=reason,
            expires_at=until.replace(tzinfo=until.tzinfo or dt.UTC), actor=by or who())
    console.print(f"legal hold {placed.id} placed until {placed.expires_at:%Y-%m-%d %H:%M} UTC")


@app.command()
def release(hold_id: str, controller: ControllerOpt,
            by: Annotated[str | None, typer.Option(help="who releases it (default: the operator)")] = None) -> None:
    """Release a legal hold before it ends; the next sweep applies the retention rule again.

    Example: `charter retention release 6f1c… --controller lubpur`
    """
    with unit_of_work() as session:
        LegalHolds(session, keyring()).release(controller, hold_id, actor=by or who())
    console.print(f"legal hold {hold_id} released")


@app.command()
def holds(controller: ControllerOpt,
          all_: Annotated[bool, typer.Option("--all", help="include released and expired holds")] = False) -> None:
    """The legal holds in force (or all of them), with what each covers, who placed it and until when.

    Example: `charter retention holds --controller lubpur`
    """
    with unit_of_work() as session:
        table = Table("id", "dataset", "collection", "subject", "until", "placed by", "released", "reason")
        for h in LegalHolds(session, keyring()).holds(controller, include_ended=all_):
            table.add_row(h.id, h.dataset, h.collection or "(all)", h.subject_id or "(everyone)",
                          f"{h.expires_at:%Y-%m-%d %H:%M}", h.placed_by,
                          f"{h.released_at:%Y-%m-%d} by {h.released_by}" if h.released_at else "", h.reason)
        console.print(table)


@app.command()
def runs(controller: ControllerOpt, limit: int = 20) -> None:
    """The latest sweeps: when, dry run or not, rows deleted and anonymised, errors.

    Example: `charter retention runs --controller lubpur`
    """
    with unit_of_work() as session:
        table = Table("id", "kind", "started", "dry run", "deleted", "anonymised", "errors", "by")
        for r in RetentionRuns(session).latest(controller, limit):
            table.add_row(r.id, r.kind, f"{r.started_at:%Y-%m-%d %H:%M:%S}", "yes" if r.is_dry_run else "",
                          str(r.rows_deleted), str(r.rows_changed), str(r.errors), r.actor)
        console.print(table)
