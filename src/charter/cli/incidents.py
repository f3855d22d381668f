"""`charter incidents …`: record, resolve the people affected, notices, filings, clocks, the regulator report."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from pydantic import ValidationError
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from charter.accounts.services import ControllerService
from charter.announcements import FanOut
from charter.cli.retention import who
from charter.cli.shell import console, database, fail, keyring, unit_of_work
from charter.core.errors import CharterError
from charter.core.i18n import Lang, Text
from charter.core.secrets import Secrets
from charter.incidents import (
    AffectedResolver,
    IncidentIn,
    IncidentNotices,
    IncidentReports,
    Incidents,
    build_report,
    to_markdown,
    to_pdf,
)
from charter.incidents.schemas import IncidentCreate, NoticeCreate
from charter.incidents.services import add_counts

app = typer.Typer(help="Security incidents: record, people affected, notices, regulator filings and report.",
                  no_args_is_help=True)

ControllerOpt = Annotated[str, typer.Option("--controller", help="the controller id")]
FileArg = Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="a YAML or JSON file")]


def _read(path: Path, model: type[IncidentCreate] | type[NoticeCreate]) -> Any:
    try:
        return model.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (yaml.YAMLError, ValidationError) as exc:
        first = exc.errors()[0] if isinstance(exc, ValidationError) else None
        field = ".".join(str(p) for p in first["loc"]) if first else None
        raise fail(CharterError(f"{path} is not a valid {model.__name__}: {first['msg'] if first else exc}",
                                field=field)) from exc


@app.command()
def record(file: FileArg, controller: ControllerOpt) -> None:
    """Record an incident from a YAML file: title, found_by, discovered_at, location, description, categories,
    systems, people_estimate, police_informed (and occurred_from/until, police_reference, is_significant,
    is_critical_infrastructure). Its reporting clocks start at `discovered_at`.

    Example: `charter incidents record incident.yaml --controller lubpur`
    """
    body = _read(file, IncidentCreate)
    with unit_of_work() as session:
        incidents = Incidents(session)
        incident = incidents.record(controller, IncidentIn(**body.model_dump()), actor=who())
        console.print(f"incident {incident.id} recorded as {incident.reference}")
        console.print(_clock_table(incidents, [incident]))


@app.command("list")
def list_incidents(controller: ControllerOpt) -> None:
    """Incidents, newest first, with their status and the people found affected.

    Example: `charter incidents list --controller lubpur`
    """
    with unit_of_work() as session:
        table = Table("id", "reference", "title", "discovered", "status", "estimate", "affected")
        for i in Incidents(session).all(controller):
            table.add_row(i.id, i.reference, i.title, f"{i.discovered_at:%Y-%m-%d %H:%M}", i.status,
                          str(i.people_estimate), "" if i.affected_count is None else str(i.affected_count))
        console.print(table)


def _clock_table(incidents: Incidents, items: list[Any], now: dt.datetime | None = None) -> Table:
    table = Table("incident", "clock", "hours", "due (UTC)", "status", "filed")
    for incident in items:
        for state in incidents.clocks(incident, now):
            colour = {"overdue": "red", "running": "yellow"}.get(state.status.value, "green")
            table.add_row(incident.reference, state.code, str(state.hours), f"{state.due_at:%Y-%m-%d %H:%M}",
                          f"[{colour}]{state.status.value}[/]",
                          f"{state.filed_at:%Y-%m-%d %H:%M}" if state.filed_at else "")
    return table


@app.command()
def clocks(incident_id: str, controller: ControllerOpt) -> None:
    """The incident's reporting clocks: due when, running, overdue, met or late.

    Example: `charter incidents clocks 3f2a… --controller lubpur`
    """
    with unit_of_work() as session:
        incidents = Incidents(session)
        console.print(_clock_table(incidents, [incidents.get(controller, incident_id)]))


@app.command()
def overdue(controller: Annotated[str | None, typer.Option(help="one controller; all when omitted")] = None) -> None:
    """Every reporting deadline that has passed with no filing recorded; exits 1 when there is one.

    Example: `charter incidents overdue`
    """
    found = 0
    with unit_of_work() as session:
        ids = [controller] if controller else [c.id for c in ControllerService(session).list()]
        table = Table("controller", "incident", "title", "clock", "due (UTC)", "overdue by")
        now = dt.datetime.now(dt.UTC)
        for cid in ids:
            for incident, state in Incidents(session).overdue(cid, now):
                found += 1
                late = now - state.due_at
                table.add_row(cid, incident.reference, incident.title, state.code, f"{state.due_at:%Y-%m-%d %H:%M}",
                              f"[red]{late.days}d {late.seconds // 3600}h {late.seconds % 3600 // 60}m[/]")
        console.print(table if found else "no reporting deadline is overdue")
    if found:
        raise typer.Exit(1)


@app.command()
def resolve(incident_id: str, controller: ControllerOpt) -> None:
    """Find the people affected: the identities in the collections the incident touched, within its window.

    Example: `charter incidents resolve 3f2a… --controller lubpur`
    """
    with database() as sessions, Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                                          console=console) as progress:
        task = progress.add_task("reading", total=None)
        read = {"rows": 0}

        def on_page(collection: str, rows: int) -> None:
            read["rows"] += rows
            progress.update(task, description=f"{collection}: {read['rows']:,} rows read")

        result = AffectedResolver(sessions, keyring(), Secrets.from_environment(), on_page=on_page).resolve(
            controller, incident_id, actor=who())
    table = Table("collection", "rows read", "identities", "route", "note")
    for c in result.collections:
        table.add_row(c.key, f"{c.rows:,}", f"{c.identities:,}", c.route,
                      f"[red]{c.error}[/]" if c.error else ("staff must search it" if c.manual else ""))
    console.print(table)
    console.print(f"{result.people:,} people affected ({result.identities:,} identities; {result.subjects:,} "
                  "known to Charter)")


@app.command()
def notice(incident_id: str, file: FileArg, controller: ControllerOpt) -> None:
    """Draft a notice from a YAML file (`elements: {code: {zh, en}}`, `channels: [email, sms, push, in_app]`,
    `announce: true|false`); refused, naming the element, unless it carries every element required.

    Example: `charter incidents notice 3f2a… notice.yaml --controller lubpur`
    """
    body = _read(file, NoticeCreate)
    with unit_of_work() as session:
        drafted = IncidentNotices(session, keyring()).draft(
            controller, incident_id, elements={k: Text(**v.model_dump()) for k, v in body.elements.items()},
            channels=body.channels, announce=body.announce, actor=who())
    console.print(f"notice {drafted.id} drafted with elements {', '.join(sorted(drafted.elements))}")


@app.command()
def send(notice_id: str, controller: ControllerOpt,
         page: Annotated[int, typer.Option(help="people per transaction")] = 1000) -> None:
    """Queue a drafted notice for everyone affected, a page per transaction (safe to run again after a crash),
    then announce it if the draft says so. `charter outbox drain` (or the server) delivers it.

    Example: `charter incidents send 9c1d… --controller lubpur`
    """
    key = keyring()
    total, actor = FanOut(), who()
    with database() as sessions, Progress(SpinnerColumn(), TextColumn("{task.description}"),
                                          console=console) as progress:
        bar = progress.add_task("queueing", total=None)
        with sessions() as session, session.begin():
            notice_row, incident = IncidentNotices(session, key).start(controller, notice_id)
            incident_id = incident.id
        after: int | None = 0
        while after is not None:
            with sessions() as session, session.begin():
                notices = IncidentNotices(session, key)
                notice_row, incident = notices.get(controller, notice_id), Incidents(session).get(controller,
                                                                                                   incident_id)
                after, counts = notices.send_page(notice_row, incident, after=after, limit=page, actor=actor)
            add_counts(total, counts)
            progress.update(bar, description=f"{total.total:,} messages queued")
        with sessions() as session, session.begin():
            notices = IncidentNotices(session, key)
            notice_row, incident = notices.start(controller, notice_id)
            notices.finish(notice_row, incident, total, actor=actor)
    console.print(f"queued: {total.queued}; already queued: {total.already}; suppressed: {total.suppressed}; "
                  f"invalid: {total.invalid}")


@app.command("file")
def file_report(incident_id: str, controller: ControllerOpt,
                clock: Annotated[str, typer.Option(help="the clock this filing stops")],
                authority: Annotated[str, typer.Option(help="who it was reported to")],
                reference: Annotated[str | None, typer.Option(help="the authority's reference")] = None) -> None:
    """Record a report made to an authority; it stops that clock.

    Example: `charter incidents file 3f2a… --controller lubpur --clock significant_incident --authority "上海市网信办"`
    """
    with unit_of_work() as session:
        filing = Incidents(session).file(controller, incident_id, clock=clock, authority=authority,
                                         reference=reference, actor=who())
    console.print(f"filing for {filing.clock} recorded at {filing.filed_at:%Y-%m-%d %H:%M} UTC")


@app.command()
def report(incident_id: str, controller: ControllerOpt,
           lang: Annotated[str, typer.Option(help="zh-CN or en")] = "zh-CN",
           fmt: Annotated[str, typer.Option("--format", help="markdown or pdf")] = "markdown",
           out: Annotated[Path | None, typer.Option(help="write here (a PDF needs it)")] = None) -> None:
    """The regulator report in Chinese or English, as Markdown (printed or written) or PDF.

    Example: `charter incidents report 3f2a… --controller lubpur --lang en --format pdf --out report.pdf`
    """
    if fmt not in ("markdown", "pdf"):
        raise fail(CharterError("--format is markdown or pdf", field="format"))
    try:
        language = Lang.parse(lang)
    except ValueError as exc:
        raise fail(CharterError(str(exc), field="lang")) from exc
    with unit_of_work() as session:
        built = build_report(IncidentReports(session).facts(controller, incident_id), language)
    if fmt == "pdf":
        if out is None:
            raise fail(CharterError("a PDF needs --out", field="out"))
        out.write_bytes(to_pdf(built))
    elif out is not None:
        out.write_text(to_markdown(built), encoding="utf-8")
    else:
        typer.echo(to_markdown(built), nl=False)
    if out is not None:
        console.print(f"report written to {out}")


@app.command()
def close(incident_id: str, controller: ControllerOpt) -> None:
    """Close an incident: its clocks stop being shown as overdue.

    Example: `charter incidents close 3f2a… --controller lubpur`
    """
    with unit_of_work() as session:
        Incidents(session).close(controller, incident_id, actor=who())
    console.print("incident closed")
