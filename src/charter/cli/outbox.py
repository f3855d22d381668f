"""`charter outbox …` (drain, list, bounce, unbounce, webhook) and `charter devmail`."""

from __future__ import annotations

import secrets
import sys
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from charter.cli.shell import CLI_ACTOR, console, fail, keyring, unit_of_work
from charter.core.db import make_engine, session_factory
from charter.core.errors import CharterError
from charter.core.settings import load_settings
from charter.migrations import ensure_current
from charter.outbox import Channel, Outbox, OutboxSender, Status, WebhookEndpoints, transports_from_settings

app = typer.Typer(help="The outbox: every message to a person (email, SMS, push, in-app).", no_args_is_help=True)

ControllerOpt = Annotated[str, typer.Option("--controller", help="the controller id")]
ChannelOpt = Annotated[Channel, typer.Option(help="email, sms, push or in_app")]


@app.command()
def drain(
    controller: Annotated[str | None, typer.Option(help="one controller; all when omitted")] = None,
    limit: Annotated[int | None, typer.Option(help="at most this many messages; all due ones when omitted")] = None,
) -> None:
    """Send every message that is due now, through CHARTER_SMTP_… and the controllers' webhooks.

    Example: `charter outbox drain --controller lubpur`
    """
    settings = load_settings()
    engine = make_engine(settings.database_url)
    try:
        ensure_current(engine)
        sender = OutboxSender(session_factory(engine), keyring(), transports_from_settings(settings))
        report = sender.drain(limit, controller_id=controller) if limit else sender.send_due(controller_id=controller)
    except CharterError as exc:
        raise fail(exc) from exc
    finally:
        engine.dispose()
    console.print(f"outbox: {report}")


@app.command("list")
def list_messages(
    controller: ControllerOpt,
    status: Annotated[Status | None, typer.Option(help="only messages in this state")] = None,
    limit: int = 50,
) -> None:
    """The newest messages: id, channel, template, language, status, attempts (never the recipient or text).

    Example: `charter outbox list --controller lubpur --status failed`
    """
    with unit_of_work() as session:
        table = Table("id", "created", "channel", "template", "lang", "status", "attempts", "next attempt",
                      "last error")
        for m in Outbox(session, keyring()).messages(controller, status=status, limit=limit):
            waiting = m.status in (Status.QUEUED.value, Status.SENDING.value)
            table.add_row(m.id, m.created_at.strftime("%Y-%m-%d %H:%M:%S"), m.channel, m.template, m.language,
                          m.status, str(m.attempts),
                          m.next_attempt_at.strftime("%Y-%m-%d %H:%M:%S") if waiting else "", m.last_error or "")
        console.print(table)


@app.command()
def bounce(address: str, controller: ControllerOpt, channel: ChannelOpt = Channel.EMAIL) -> None:
    """Mark an address as bounced: nothing more is sent to it until `charter outbox unbounce`.

    Example: `charter outbox bounce wang@example.com --controller lubpur`
    """
    with unit_of_work() as session:
        Outbox(session, keyring()).mark_bounced(controller, address=address, channel=channel,
                                                reason="marked bounced by an operator", actor=CLI_ACTOR)
    console.print(f"{channel.value} address suppressed for {controller}")


@app.command()
def unbounce(address: str, controller: ControllerOpt, channel: ChannelOpt = Channel.EMAIL) -> None:
    """Allow messages to a bounced address again.

    Example: `charter outbox unbounce wang@example.com --controller lubpur`
    """
    with unit_of_work() as session:
        cleared = Outbox(session, keyring()).clear_bounce(controller, address, channel=channel, actor=CLI_ACTOR)
    console.print("suppression cleared" if cleared else "that address was not suppressed")


@app.command()
def webhook(
    controller: ControllerOpt,
    channel: Annotated[Channel, typer.Option(help="sms or push")],
    url: Annotated[str, typer.Option(help="the host's endpoint that delivers the SMS or push")],
    secret_stdin: Annotated[bool, typer.Option(help="read the signing secret from standard input")] = False,
) -> None:
    """Set where a controller's SMS or push messages are POSTed, HMAC-SHA256 signed.

    Without --secret-stdin a secret is generated and printed once; give it to the host to verify signatures.

    Example: `charter outbox webhook --controller lubpur --channel sms --url https://lubpur.example/hooks/sms`
    """
    secret = sys.stdin.readline().strip() if secret_stdin else secrets.token_urlsafe(32)
    with unit_of_work() as session:
        WebhookEndpoints(session, keyring()).set(controller, channel, url, secret, actor=CLI_ACTOR)
    console.print(f"{channel.value} webhook set for {controller}")
    if not secret_stdin:
        console.print("signing secret (shown once; requests carry X-Charter-Signature: sha256=HMAC):")
        typer.echo(secret)


def devmail(
    host: str = "127.0.0.1",
    smtp_port: Annotated[int, typer.Option(help="where the SMTP server listens")] = 1025,
    web_port: Annotated[int, typer.Option(help="where the web inbox listens")] = 8025,
    store: Annotated[Path | None, typer.Option(help="keep mail in this SQLite file (default: memory)")] = None,
) -> None:
    """A local SMTP server that keeps every message, with a web inbox to read them. Nothing is relayed.

    Example: `charter devmail --smtp-port 1025 --web-port 8025`
    """
    from charter.devmail import DevMail  # noqa: PLC0415 - only this command needs the servers; keeps the rest fast

    with DevMail(host=host, smtp_port=smtp_port, web_port=web_port, store_path=store) as mail:
        console.print(f"SMTP on {host}:{mail.smtp_port}; inbox at {mail.inbox_url}  (Ctrl-C stops)")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            console.print("stopped")
