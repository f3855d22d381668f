"""`charter`: the command line entry point."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from charter.accounts.services import ControllerService
from charter.audit.services import AuditLog
from charter.cli import accounts, consent, datamap, demo, incidents, operations, outbox, policy, retention, worker
from charter.cli.shell import console, fail, unit_of_work
from charter.core.db import make_engine
from charter.core.errors import CharterError
from charter.core.settings import load_settings
from charter.migrations import current_revision, head_revision, upgrade

app = typer.Typer(help="Charter keeps the promises a privacy policy makes.", no_args_is_help=True)
app.add_typer(policy.app, name="policy")
app.add_typer(datamap.app, name="datamap")
app.add_typer(accounts.controller_app, name="controller")
app.add_typer(accounts.admin_app, name="admin")
app.add_typer(accounts.keys_app, name="keys")
app.add_typer(outbox.app, name="outbox")
app.add_typer(retention.app, name="retention")
app.add_typer(incidents.app, name="incidents")
app.add_typer(operations.app, name="operations")
app.command()(outbox.devmail)
app.add_typer(consent.consent_app, name="consent")
app.command()(worker.worker)
db_app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
app.command()(demo.demo)
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database (CHARTER_DATABASE_URL) to the latest migration."""
    url = load_settings().database_url
    upgrade(url)
    console.print(f"database at migration {head_revision()}")


@db_app.command("current")
def db_current() -> None:
    """Show the database's migration and the latest one."""
    engine = make_engine(load_settings().database_url)
    try:
        console.print(f"database: {current_revision(engine) or '(empty)'}; latest: {head_revision()}")
    finally:
        engine.dispose()


@audit_app.command("verify")
def audit_verify(
    controller: Annotated[str | None, typer.Option(help="one controller; all when omitted")] = None,
) -> None:
    """Check every controller's audit chain; report the first broken link.

    Example: `charter audit verify --controller lubpur`
    """
    broken = False
    with unit_of_work() as session:
        ids = [controller] if controller else [c.id for c in ControllerService(session).list()]
        table = Table("controller", "events", "result")
        for cid in ids:
            result = AuditLog(session).verify(cid)
            broken |= not result.ok
            table.add_row(cid, str(result.checked), "[green]intact[/]" if result.ok else
                          f"[red]broken at event {result.broken_at}: {result.reason}[/]")
        console.print(table)
    if broken:
        raise typer.Exit(1)


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the API (and pages) on one ASGI server. Uses SQLite in this folder unless told otherwise."""
    import uvicorn  # noqa: PLC0415 - only the server needs it; keeps every other command fast to start

    from charter.web.app import create_app  # noqa: PLC0415 - same

    try:
        application = create_app()
    except CharterError as exc:
        raise fail(exc) from exc
    uvicorn.run(application, host=host, port=port, log_level="info")


def main() -> None:
    try:
        app()
    except CharterError as exc:  # raised before a command could answer it itself (its settings, say)
        raise SystemExit(fail(exc).exit_code) from None
