from __future__ import annotations

from alembic import context
from sqlalchemy import pool

from charter.all_models import metadata
from charter.core.db import make_engine

config = context.config
url = config.get_main_option("sqlalchemy.url")
assert url  # noqa: S101 - set by charter.migrations.alembic_config
engine = make_engine(url, poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
