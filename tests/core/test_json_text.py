"""JSON written again and again unchanged (a plan's task, in every request's task rows) is encoded once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import JSON, Column, Engine, Integer, MetaData, Table, insert, select

from charter.core.db import JsonText, dump_json, make_engine
from tests.services import fresh_postgres_database

_DOCS = Table("docs", MetaData(), Column("id", Integer, primary_key=True), Column("body", JSON))


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'docs.db'}")
        yield engine
        engine.dispose()
        return
    with fresh_postgres_database() as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


def test_a_json_text_keeps_the_text_it_was_encoded_to() -> None:
    doc = JsonText({"task": {"collection": "customer", "fields": ["email", "name"]}, "keep": "keys"})

    assert json.loads(doc.text()) == doc
    assert doc.text() is doc.text()  # encoded once
    assert dump_json(doc) is doc.text()
    assert dump_json({"plain": [1, 2]}) == json.dumps({"plain": [1, 2]})


def test_json_columns_take_a_json_text_as_the_object_it_holds(engine: Engine) -> None:
    _DOCS.create(engine)
    doc = JsonText({"task": {"collection": "customer", "names": ["客户", "email"]}, "keys": [1, 2]})
    with engine.begin() as conn:
        conn.execute(insert(_DOCS), [{"id": 1, "body": doc}, {"id": 2, "body": doc},
                                     {"id": 3, "body": {"plain": True}}])
    with engine.connect() as conn:
        rows = dict(conn.execute(select(_DOCS.c.id, _DOCS.c.body)).all())  # type: ignore[arg-type]
    assert rows == {1: doc, 2: doc, 3: {"plain": True}}
