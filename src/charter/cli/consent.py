"""`charter consent …`: check the ledger and run its sweeps."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.table import Table

from charter.accounts.services import ControllerService
from charter.cli.shell import CLI_ACTOR, console, keyring, unit_of_work
from charter.consent.services import ConsentLedger
from charter.decisions.services import load_terms

consent_app = typer.Typer(help="The consent ledger.", no_args_is_help=True)
ControllerOpt = Annotated[str | None, typer.Option("--controller", help="one controller; all when omitted")]


@consent_app.command("verify")
def verify(controller: ControllerOpt = None) -> None:
    """Check each ledger's hash chain, and that the current state equals a replay of the events.

    Example: `charter consent verify --controller lubpur`
    """
    broken = False
    with unit_of_work() as session:
        ids = [controller] if controller else [c.id for c in ControllerService(session).list()]
        ledger = ConsentLedger(session, keyring())
        table = Table("controller", "events", "chain", "state = replay")
        for cid in ids:
            chain = ledger.verify(cid)
            same = ledger.projected(cid) == ledger.replayed(cid)
            broken |= not chain.ok or not same
            table.add_row(cid, str(chain.checked),
                          "[green]intact[/]" if chain.ok else f"[red]broken at {chain.broken_at}: {chain.reason}[/]",
                          "[green]yes[/]" if same else "[red]no[/]")
        console.print(table)
    if broken:
        raise typer.Exit(1)


@consent_app.command("sweep")
def sweep(controller: Annotated[str, typer.Option("--controller", help="the controller id")]) -> None:
    """Record expiry of consents past their validity, and supersession of consents a policy version in force
    asked to renew. Idempotent: run it daily and when a version takes effect.

    Example: `charter consent sweep --controller lubpur`
    """
    with unit_of_work() as session:
        terms = load_terms(session, controller, dt.datetime.now(dt.UTC).date())
        ledger = ConsentLedger(session, keyring())
        expired = ledger.expire_due(controller, terms, actor=CLI_ACTOR)
        superseded = ledger.supersede_outdated(controller, terms, actor=CLI_ACTOR)
    console.print(f"{len(expired)} consent(s) expired, {len(superseded)} superseded by policy {terms.current.version}")
