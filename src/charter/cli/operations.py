"""`charter operations …`: controller transfer, compelled disclosure, ceasing operations, de-identified export,
policy changes. Each step has `--dry-run` (every check runs, nothing is written or sent) and leaves audit events."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from charter.cli.retention import BarProgress, summary, who
from charter.cli.shell import console, database, fail, keyring, unit_of_work
from charter.core.errors import CharterError
from charter.core.secrets import Secrets
from charter.core.settings import load_settings
from charter.operations import (
    DeidentifiedExporter,
    Disclosures,
    PolicyChanges,
    ShutdownErasure,
    Shutdowns,
    Transfers,
    closing_report,
    disclosure_register,
    parse_generalisation,
    run_due_notices,
    transfer_report,
)
from charter.subjects.services import SubjectDirectory

app = typer.Typer(help="Once-in-a-lifetime operations: transfer, compelled disclosure, ceasing, de-identified export.",
                  no_args_is_help=True)
transfer_app = typer.Typer(help="Controller transfer: tell everyone, record the undertaking, hand over.",
                           no_args_is_help=True)
disclosure_app = typer.Typer(help="Disclosures compelled by law, and telling the person.", no_args_is_help=True)
cease_app = typer.Typer(help="Ceasing operations: stop collecting, tell everyone, erase, report.",
                        no_args_is_help=True)
changes_app = typer.Typer(help="Policy changes: notices before the effective date, renewal on it.",
                          no_args_is_help=True)
app.add_typer(transfer_app, name="transfer")
app.add_typer(disclosure_app, name="disclosure")
app.add_typer(cease_app, name="cease")
app.add_typer(changes_app, name="changes")

ControllerOpt = Annotated[str, typer.Option("--controller", help="the controller id")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="run every check; write and send nothing")]


def _dry(dry_run: bool) -> None:
    if dry_run:
        console.print("[yellow]dry run: nothing was written or sent[/]")


# --- controller transfer --------------------------------------------------------------------------------------


@transfer_app.command("start")
def transfer_start(*, controller: ControllerOpt, to: Annotated[str, typer.Option(help="the new holder")],
                   contact: Annotated[str, typer.Option(help="how people reach the new holder")],
                   date: Annotated[dt.datetime, typer.Option(help="the transfer date")],
                   dry_run: DryRun = False) -> None:
    """Open a transfer to a new holder on a date; people are told before it.

    Example: `charter operations transfer start --controller lubpur --to "Beta Ltd" --contact dpo@beta.example
    --date 2026-03-01`
    """
    with unit_of_work(dry_run=dry_run) as session:
        transfer = Transfers(session, keyring()).start(controller, new_holder=to, new_holder_contact=contact,
                                                       transfer_date=date.date(), actor=who())
        console.print(f"transfer {transfer.id} to {transfer.new_holder} on {transfer.transfer_date}")
    _dry(dry_run)


@transfer_app.command("notify")
def transfer_notify(transfer_id: str, controller: ControllerOpt,
                    announce: Annotated[bool, typer.Option(help="also announce it publicly")] = False,
                    dry_run: DryRun = False) -> None:
    """Tell every person (email, SMS, push as configured, and in-app); safe to run again.

    Example: `charter operations transfer notify 51c… --controller lubpur --announce`
    """
    with unit_of_work(dry_run=dry_run) as session:
        result = Transfers(session, keyring()).notify(controller, transfer_id, announce=announce, dry_run=dry_run,
                                                      actor=who())
    console.print(result)
    _dry(dry_run)


@transfer_app.command("undertaking")
def transfer_undertaking(transfer_id: str, *, controller: ControllerOpt,
                         text_file: Annotated[Path, typer.Option(exists=True, dir_okay=False,
                                                                 help="the undertaking's text")],
                         signed_by: Annotated[str, typer.Option(help="who signed it for the new holder")],
                         dry_run: DryRun = False) -> None:
    """Record the new holder's written undertaking to keep the policy's obligations.

    Example: `charter operations transfer undertaking 51c… --controller lubpur --text-file undertaking.txt
    --signed-by "Beta Ltd, CEO"`
    """
    with unit_of_work(dry_run=dry_run) as session:
        transfer = Transfers(session, keyring()).record_undertaking(
            controller, transfer_id, text=text_file.read_text(encoding="utf-8"), signed_by=signed_by, actor=who())
        console.print(f"undertaking recorded (sha256 {transfer.undertaking_sha256})")
    _dry(dry_run)


@transfer_app.command("handover")
def transfer_handover(transfer_id: str, controller: ControllerOpt, dry_run: DryRun = False) -> None:
    """Hand over; refused until everyone was told and the undertaking recorded, and before the transfer date.

    Example: `charter operations transfer handover 51c… --controller lubpur`
    """
    with unit_of_work(dry_run=dry_run) as session:
        done = Transfers(session, keyring()).hand_over(controller, transfer_id, dry_run=dry_run, actor=who())
        console.print(f"handed over to {done.transfer.new_holder}; notices: {done.delivery}")
    _dry(dry_run)


@transfer_app.command("report")
def transfer_report_command(transfer_id: str, controller: ControllerOpt,
                            out: Annotated[Path | None, typer.Option(help="write it here")] = None) -> None:
    """The transfer report (Markdown, zh/en).

    Example: `charter operations transfer report 51c… --controller lubpur --out transfer.md`
    """
    with unit_of_work() as session:
        text = transfer_report(session, Transfers(session, keyring()).get(controller, transfer_id))
    _emit(text, out)


def _emit(text: str, out: Path | None) -> None:
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        console.print(f"written to {out}")


# --- compelled disclosure -------------------------------------------------------------------------------------


@disclosure_app.command("record")
def disclosure_record(*, controller: ControllerOpt,
                      email: Annotated[str, typer.Option(help="the person whose data was disclosed, by email")],
                      authority: Annotated[str, typer.Option(help="who compelled it")],
                      grounds: Annotated[str, typer.Option(help="the law, order or request")],
                      category: Annotated[list[str], typer.Option(help="a category disclosed (repeat)")],
                      disclosed: Annotated[dt.datetime, typer.Option(help="when (UTC)")],
                      reference: Annotated[str | None, typer.Option(help="the authority's reference")] = None,
                      restricted_by: Annotated[str | None, typer.Option(help="the lawful restriction on telling "
                                                                                  "the person")] = None,
                      restricted_until: Annotated[dt.datetime | None, typer.Option(help="when it ends")] = None,
                      dry_run: DryRun = False) -> None:
    """Record a compelled disclosure; the person is told now, or when the restriction ends.

    Example: `charter operations disclosure record --controller lubpur --email wang@example.com --authority
    "Shanghai PSB" --grounds "CPL art. 54" --category basic.email --disclosed 2025-11-20`
    """
    with unit_of_work(dry_run=dry_run) as session:
        subject = SubjectDirectory(session, keyring()).find(controller, "email", email)
        if subject is None:
            raise fail(CharterError("no person with that email is known to Charter", field="email"))
        disclosure = Disclosures(session, keyring()).record(
            controller, subject_id=subject.id, authority=authority, grounds=grounds, categories=category,
            disclosed_at=_utc(disclosed), reference=reference, restriction_basis=restricted_by,
            restricted_until=_utc(restricted_until) if restricted_until else None, actor=who())
        told = "told now" if disclosure.notified_at else f"to be told on {disclosure.restricted_until:%Y-%m-%d}"
        console.print(f"disclosure {disclosure.id} recorded; the person is {told}")
    _dry(dry_run)


def _utc(at: dt.datetime) -> dt.datetime:
    return at.replace(tzinfo=at.tzinfo or dt.UTC)


@disclosure_app.command("list")
def disclosure_list(controller: ControllerOpt,
                    out: Annotated[Path | None, typer.Option(help="write the register here")] = None) -> None:
    """The register of compelled disclosures (Markdown), with when each person was or will be told.

    Example: `charter operations disclosure list --controller lubpur`
    """
    with unit_of_work() as session:
        text = disclosure_register(Disclosures(session, keyring()).all(controller))
    _emit(text, out)


# --- ceasing operations ---------------------------------------------------------------------------------------


@cease_app.command("stop")
def cease_stop(*, controller: ControllerOpt, reason: Annotated[str, typer.Option(help="why the service ends")],
               last_day: Annotated[dt.datetime, typer.Option(help="data is erased after this day")],
               dry_run: DryRun = False) -> None:
    """Stop collecting: consent, decisions and new people are refused from now on.

    Example: `charter operations cease stop --controller lubpur --reason "Business closed" --last-day 2026-01-31`
    """
    with unit_of_work(dry_run=dry_run) as session:
        Shutdowns(session, keyring()).stop_collection(controller, reason=reason, last_day=last_day.date(),
                                                      dry_run=dry_run, actor=who())
    console.print(f"collection stopped for {controller}" if not dry_run else "collection would stop")
    _dry(dry_run)


@cease_app.command("notify")
def cease_notify(controller: ControllerOpt,
                 individually: Annotated[bool, typer.Option(help="tell each person")] = True,
                 announce: Annotated[bool, typer.Option(help="announce it publicly")] = True,
                 dry_run: DryRun = False) -> None:
    """Tell everyone the service stops, and/or announce it.

    Example: `charter operations cease notify --controller lubpur --no-individually --announce`
    """
    with unit_of_work(dry_run=dry_run) as session:
        result = Shutdowns(session, keyring()).notify(controller, individually=individually, announce=announce,
                                                      dry_run=dry_run, actor=who())
    console.print(result)
    _dry(dry_run)


@cease_app.command("erase")
def cease_erase(controller: ControllerOpt, dry_run: DryRun = False) -> None:
    """Erase or anonymise every dataset through the connectors (after the last day, once people were told).

    Example: `charter operations cease erase --controller lubpur --dry-run`
    """
    with database() as sessions, Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                          TimeElapsedColumn(), console=console) as progress:
        report = ShutdownErasure(sessions, keyring(), Secrets.from_environment(),
                                 progress=BarProgress(progress)).erase(controller, dry_run=dry_run, actor=who())
    console.print(summary(report))
    if report.errors:
        raise typer.Exit(1)


@cease_app.command("report")
def cease_report(controller: ControllerOpt,
                 out: Annotated[Path | None, typer.Option(help="write it here")] = None) -> None:
    """The closing report (Markdown, zh/en): what was stopped, who was told, what each dataset became.

    Example: `charter operations cease report --controller lubpur --out closing.md`
    """
    with unit_of_work() as session:
        text = closing_report(session, Shutdowns(session, keyring()).get(controller))
    _emit(text, out)


# --- de-identified export -------------------------------------------------------------------------------------


@app.command()
def export(*, controller: ControllerOpt,
           collection: Annotated[str, typer.Option(help="`dataset.collection` of the data map")],
           out: Annotated[Path, typer.Option(help="the CSV file to write")],
           generalise: Annotated[list[str] | None,
                                 typer.Option(help="field=year|month|keep_chars:N|round_to:N")] = None,
           dry_run: DryRun = False) -> None:
    """Export a collection de-identified for analytics: identities dropped, keys pseudonymised, personal fields
    generalised or dropped; refused if a direct identifier would survive.

    Example: `charter operations export --controller lubpur --collection lubpur_db.purchase_requests
    --generalise created_at=month --out requests.csv`
    """
    try:
        rules = dict(parse_generalisation(g) for g in generalise or [])
    except CharterError as exc:
        raise fail(exc) from exc
    with database() as sessions:
        result = DeidentifiedExporter(sessions, keyring(), Secrets.from_environment()).export(
            controller, collection, out, generalise=rules, dry_run=dry_run, actor=who())
    table = Table("column", "treatment")
    for column in result.columns:
        table.add_row(column.name, column.description)
    console.print(table)
    console.print(f"{result.rows} rows checked" + ("" if dry_run else f", written to {out} (sha256 {result.sha256})"))
    _dry(dry_run)


# --- policy changes -------------------------------------------------------------------------------------------


@changes_app.command("list")
def changes_list(controller: ControllerOpt) -> None:
    """Scheduled, notified and effective policy changes.

    Example: `charter operations changes list --controller lubpur`
    """
    with unit_of_work() as session:
        table = Table("id", "from", "to", "effective", "needs consent", "status", "notified", "renewed")
        for c in PolicyChanges(session, keyring()).all(controller):
            table.add_row(c.id, c.from_version, c.to_version, c.effective.isoformat(), "yes" if c.needs_consent else "",
                          c.status, f"{c.notified_at:%Y-%m-%d %H:%M}" if c.notified_at else "",
                          "" if c.renewals is None else str(c.renewals))
        console.print(table)


@changes_app.command("run")
def changes_run(controller: Annotated[str | None, typer.Option(help="one controller; all when omitted")] = None
                ) -> None:
    """Send the notices that are due now (policy changes, lifted disclosure restrictions) and apply policy changes
    whose date has come. `charter serve` does this by itself every minute.

    Example: `charter operations changes run`
    """
    with database() as sessions:
        done = run_due_notices(sessions, keyring(), base_url=load_settings().base_url, controller_id=controller)
    console.print(f"disclosure notices: {done.disclosures}; policy changes notified: {done.changes_notified}; "
                  f"taking effect: {done.changes_effective}" + (f"; [red]failed: {done.failed}[/]" if done.failed
                                                                  else ""))
    if done.failed:
        raise typer.Exit(1)
