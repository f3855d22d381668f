"""`charter controller …`, `charter admin …` and `charter keys …`."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from charter.accounts.models import KeyKind, Role
from charter.accounts.services import ApiKeyService, ControllerService, OriginService, StaffService
from charter.cli.shell import CLI_ACTOR, console, keyring, unit_of_work
from charter.core.crypto import save_keyring
from charter.core.settings import load_settings
from charter.sessions.services import SessionStore
from charter.subjects.services import REENCRYPTORS

controller_app = typer.Typer(help="Controllers (tenants): one per company.", no_args_is_help=True)
admin_app = typer.Typer(help="Staff accounts.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys for host applications, and the field-encryption keyring.",
                       no_args_is_help=True)

origins_app = typer.Typer(help="Web origins the controller's consent banner may call Charter from (CORS).",
                          no_args_is_help=True)
controller_app.add_typer(origins_app, name="origins")

ControllerOpt = Annotated[str, typer.Option("--controller", help="the controller id")]


@origins_app.command("add")
def add_origin(controller: ControllerOpt, origin: str) -> None:
    """Allow the banner on this origin. Example: `charter controller origins add --controller lubpur
    https://www.lubpur.com`"""
    with unit_of_work() as session:
        norm = OriginService(session).add(controller, origin, actor=CLI_ACTOR)
    console.print(f"{norm} may now load {controller}'s consent banner")


@origins_app.command("list")
def list_origins(controller: ControllerOpt) -> None:
    """The origins allowed for the controller's banner. Example: `charter controller origins list --controller
    lubpur`"""
    with unit_of_work() as session:
        for origin in OriginService(session).list(controller):
            typer.echo(origin)


@origins_app.command("remove")
def remove_origin(controller: ControllerOpt, origin: str) -> None:
    """Stop allowing an origin. Example: `charter controller origins remove --controller lubpur
    https://old.lubpur.com`"""
    with unit_of_work() as session:
        OriginService(session).remove(controller, origin, actor=CLI_ACTOR)
    console.print(f"{origin} removed")


@controller_app.command("create")
def create_controller(controller_id: str, name: str) -> None:
    """Create a controller. Example: `charter controller create lubpur "Lubpur 超润"`"""
    with unit_of_work() as session:
        ControllerService(session).create(controller_id, name, actor=CLI_ACTOR)
    console.print(f"controller {controller_id} created")


@controller_app.command("list")
def list_controllers() -> None:
    """List controllers."""
    with unit_of_work() as session:
        table = Table("id", "name", "audit events")
        for c in ControllerService(session).list():
            table.add_row(c.id, c.name, str(c.audit_head_seq))
        console.print(table)


@admin_app.command("create-user")
def create_user(
    controller: ControllerOpt,
    email: Annotated[str, typer.Option(help="the staff member's sign-in email")],
    role: Annotated[Role, typer.Option(help="viewer, operator, privacy_officer or admin")] = Role.VIEWER,
    password_stdin: Annotated[bool, typer.Option(help="read the password from standard input")] = False,
) -> None:
    """Create a staff account with an argon2id password (asked for, never taken as an argument).

    Example: `charter admin create-user --controller lubpur --email dpo@lubpur.com --role privacy_officer`
    """
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    with unit_of_work() as session:
        user = StaffService(session).create(controller, email, password, role, actor=CLI_ACTOR)
        console.print(f"staff account {user.id} ({role.value}) created for {controller}")


@admin_app.command("totp-reset")
def totp_reset(
    controller: ControllerOpt,
    email: Annotated[str, typer.Option(help="the staff member's sign-in email")],
) -> None:
    """Forget a staff member's second factor and end their sessions; their next sign-in enrols a new one.

    Example: `charter admin totp-reset --controller lubpur --email dpo@lubpur.com`
    """
    with unit_of_work() as session:
        user = StaffService(session).reset_totp(controller, email, actor=CLI_ACTOR)
        ended = SessionStore(session).close_all(controller, f"staff:{user.id}")
        console.print(f"second factor of staff account {user.id} reset; {ended} session(s) ended. At the next "
                      "sign-in they set up their authenticator again.")


@keys_app.command("create")
def create_key(
    controller: ControllerOpt,
    name: Annotated[str, typer.Option(help="what the key is for")] = "host application",
    kind: Annotated[KeyKind, typer.Option(help="secret (server) or publishable (browser)")] = KeyKind.SECRET,
) -> None:
    """Create an API key; the key is printed once and only its hash is kept.

    Example: `charter keys create --controller lubpur --name "lubpur web"`
    """
    with unit_of_work() as session:
        issued = ApiKeyService(session).create(controller, name, kind, actor=CLI_ACTOR)
    console.print(f"key id {issued.id} ({issued.kind.value}) for {controller}; store it now, it is not shown again:")
    typer.echo(issued.token)


@keys_app.command("list")
def list_keys(controller: ControllerOpt) -> None:
    """List a controller's API keys (never their secrets)."""
    with unit_of_work() as session:
        table = Table("id", "kind", "name", "created", "revoked")
        for k in ApiKeyService(session).list(controller):
            table.add_row(k.id, k.kind, k.name, k.created_at.isoformat(),
                          k.revoked_at.isoformat() if k.revoked_at else "")
        console.print(table)


@keys_app.command("revoke")
def revoke_key(controller: ControllerOpt, key_id: str) -> None:
    """Revoke an API key at once."""
    with unit_of_work() as session:
        ApiKeyService(session).revoke(controller, key_id, actor=CLI_ACTOR)
    console.print(f"key {key_id} revoked")


@keys_app.command("rotate")
def rotate() -> None:
    """Make a new field-encryption key active and re-encrypt every stored value with it.

    The new keyring (old keys kept) is saved before anything is re-encrypted, so a crash midway loses nothing.
    """
    settings = load_settings()
    if settings.keyring:
        console.print("CHARTER_KEYRING is set: rotate a file keyring, or put the output of this command run "
                      "against a keyring file into the environment.")
        raise typer.Exit(2)
    old = keyring()
    new = old.rotated()
    save_keyring(settings.keyring_file, new)
    with unit_of_work() as session:
        done = sum(reencrypt(session, old, new) for reencrypt in REENCRYPTORS)
    console.print(f"active key is now {new.active}; {done} value(s) re-encrypted")
