"""Create Lubpur's tables and search structures (idempotent; run at start-up and by `python -m lubpur seed`)."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from lubpur import models  # noqa: F401 - registers the tables on Base.metadata
from lubpur.catalogue import search
from lubpur.db import Base


def create_schema(engine: Engine) -> None:
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        search.install(conn)
