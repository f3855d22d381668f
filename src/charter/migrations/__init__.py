"""Schema migrations (Alembic), run with `charter db upgrade`; the server refuses a database behind them."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from charter.core.db import make_engine, normalise_url
from charter.core.errors import CharterError

_HERE = Path(__file__).parent


class DatabaseBehind(CharterError):
    code = "database_behind"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_HERE))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None  # noqa: S101 - the package always ships migrations
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def ensure_current(engine: Engine) -> None:
    """Refuse to run on a database that is not at the latest migration, saying how to upgrade it."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        where = "an empty database" if current is None else f"migration {current}"
        raise DatabaseBehind(
            f"the database ({engine.url.render_as_string(hide_password=True)}) is at {where}, "
            f"but this Charter needs migration {head}",
            fix="Run `charter db upgrade` (with the same CHARTER_DATABASE_URL) and start again.")


def upgrade_url(url: str) -> None:
    engine = make_engine(url)
    try:
        upgrade(url)
    finally:
        engine.dispose()
