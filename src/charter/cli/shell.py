"""What every command shares: settings, a transaction, and turning errors into a message and exit code."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from sqlalchemy.orm import Session, sessionmaker

from charter.core.crypto import Keyring, load_keyring
from charter.core.db import make_engine, session_factory, transaction
from charter.core.errors import CharterError
from charter.core.settings import load_settings
from charter.migrations import ensure_current

console = Console()
errors = Console(stderr=True)

CLI_ACTOR = "cli"


def fail(exc: CharterError, code: int = 1) -> typer.Exit:
    errors.print(f"[bold red]error:[/] {exc.message}", highlight=False)
    if exc.fix:
        errors.print(f"[yellow]fix:[/] {exc.fix}", highlight=False)
    for problem in getattr(exc, "problems", []) or []:
        errors.print(f"  {problem}", highlight=False)
    return typer.Exit(code)


@contextmanager
def unit_of_work(*, dry_run: bool = False) -> Iterator[Session]:
    """A committed transaction on the configured database, refusing one that needs migrating. With `dry_run` the
    work is done and then rolled back: every check runs, nothing is written."""
    engine = make_engine(load_settings().database_url)
    try:
        ensure_current(engine)
        if dry_run:
            with session_factory(engine)() as session:
                session.begin()
                yield session
                session.rollback()
            return
        with transaction(session_factory(engine)) as session:
            yield session
    except CharterError as exc:
        raise fail(exc) from exc
    finally:
        engine.dispose()


@contextmanager
def database() -> Iterator[sessionmaker[Session]]:
    """Sessions on the configured database, for work that owns its transactions (sweeps, fan-outs)."""
    engine = make_engine(load_settings().database_url)
    try:
        ensure_current(engine)
        yield session_factory(engine)
    except CharterError as exc:
        raise fail(exc) from exc
    finally:
        engine.dispose()


def keyring() -> Keyring:
    try:
        return load_keyring(load_settings())
    except CharterError as exc:
        raise fail(exc) from exc
