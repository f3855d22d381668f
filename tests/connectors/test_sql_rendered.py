"""`SqlConnector`'s statements rendered once per lookup shape and run on the driver's cursor, checked against the
SQLAlchemy path it replaces: a lookup longer than `_RENDERED_VALUES` still runs through SQLAlchemy with expanding
parameters, so the same call with the person's values plus non-matching ones takes the old path. Real SQLite,
PostgreSQL and MariaDB."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    create_engine,
    text,
)

from charter.connectors.base import (
    CollectionSpec,
    ConnectorError,
    ErasureSpec,
    FieldSpec,
    FieldType,
    Lookup,
    MissingColumn,
    Scalar,
    Strategy,
)
from charter.connectors.sql import _RENDERED_VALUES, SqlConnector
from tests.connectors.shop_tables import shop_database, table_rows

metadata = MetaData()
kinds = Table("kinds", metadata, Column("id", Integer, primary_key=True, autoincrement=False),
              Column("ref", String(40)), Column("amount", Numeric(10, 2)), Column("price", Numeric(10, 2)),
              Column("born", Date), Column("seen", DateTime), Column("raw", LargeBinary),
              Column("flag", Boolean), Column("doc", JSON), Column("rate %", String(20)),
              Column("Nick Name", String(40)), Column("note", String(8), nullable=False))

ROWS: list[dict[str, Any]] = [
    {"id": 1, "ref": "k1", "amount": Decimal("12.50"), "price": Decimal("3.25"), "born": dt.date(1990, 5, 17),
     "seen": dt.datetime(2024, 3, 9, 13, 45, 7), "raw": b"\x00\xffbytes", "flag": True, "doc": {"a": [1, "b"]},
     "rate %": "10%", "Nick Name": "Annie", "note": "n1"},
    {"id": 2, "ref": "k2", "amount": None, "price": Decimal("0.10"), "born": dt.date(1985, 11, 2),
     "seen": dt.datetime(2023, 1, 1, 0, 0, 1), "raw": b"", "flag": False, "doc": None,
     "rate %": None, "Nick Name": "Bob", "note": "n2"},
    {"id": 3, "ref": "k3", "amount": Decimal("-1.00"), "price": None, "born": None, "seen": None, "raw": None,
     "flag": None, "doc": [], "rate %": "%s %(x)s", "Nick Name": None, "note": "n3"},
]
UNMATCHED = tuple(f"nobody-{i}" for i in range(_RENDERED_VALUES + 5))
"""Values that match no row: added to a lookup, they send it down SQLAlchemy's path."""


def _spec(**erasures: ErasureSpec) -> CollectionSpec:
    """`amount` and `raw` have no type in the data map (the driver's value comes back as it is)."""
    typed: list[tuple[str, FieldType | None]] = [
        ("id", FieldType.INTEGER), ("ref", FieldType.STRING), ("amount", None), ("price", FieldType.NUMBER),
        ("born", FieldType.DATE), ("seen", FieldType.DATETIME), ("raw", None), ("flag", FieldType.BOOLEAN),
        ("doc", FieldType.JSON), ("rate %", FieldType.STRING), ("Nick Name", FieldType.STRING),
        ("note", FieldType.STRING)]
    return CollectionSpec(dataset="db", name="kinds", fields=tuple(
        FieldSpec(name=name, type=kind, is_primary_key=name == "id", erasure=erasures.get(name))
        for name, kind in typed))


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def kinds_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with shop_database(request.param, tmp_path) as url:
        engine = create_engine(url)
        kinds.create(engine)
        with engine.begin() as conn:
            conn.execute(kinds.insert(), ROWS)
        engine.dispose()
        yield url


@pytest.fixture
def connector(kinds_url: str) -> Iterator[SqlConnector]:
    with SqlConnector(kinds_url) as c:
        yield c


def _lookup(name: str, *values: Scalar) -> Lookup:
    return Lookup(values={name: values})


def _longer(lookup: Lookup) -> Lookup:
    """The same lookup, made long enough to take SQLAlchemy's expanding path (`ref` matches none of the extras)."""
    return Lookup(values={**lookup.values, "ref": (*lookup.values.get("ref", ()), *UNMATCHED)})


def _typed(rows: tuple[dict[str, Any], ...]) -> list[dict[str, tuple[type, Any]]]:
    return sorted(({k: (type(v), v) for k, v in row.items()} for row in rows), key=lambda r: r["id"][1])


def test_rows_have_the_same_values_and_python_types_as_through_sqlalchemy(connector: SqlConnector,
                                                                         kinds_url: str) -> None:
    spec = _spec()
    lookup = _lookup("ref", "k1", "k2", "k3")
    rendered = connector.retrieve(spec, lookup).rows
    assert _typed(rendered) == _typed(connector.retrieve(spec, _longer(lookup)).rows)
    ann = next(r for r in rendered if r["id"] == 1)
    assert list(ann) == [f.name for f in spec.fields]
    # An untyped NUMERIC comes back as the driver gives it: a Decimal, or a float from SQLite (which stores REAL).
    assert ann["amount"] == Decimal("12.50")
    assert isinstance(ann["amount"], float if kinds_url.startswith("sqlite") else Decimal)
    assert ann["price"] == 3.25 and isinstance(ann["price"], float)
    assert ann["born"] == dt.date(1990, 5, 17) and not isinstance(ann["born"], dt.datetime)
    assert ann["seen"] == dt.datetime(2024, 3, 9, 13, 45, 7)
    assert bytes(ann["raw"]) == b"\x00\xffbytes"
    assert ann["flag"] is True
    assert ann["doc"] == {"a": [1, "b"]}
    assert (ann["rate %"], ann["Nick Name"]) == ("10%", "Annie")
    assert next(r for r in rendered if r["id"] == 3)["rate %"] == "%s %(x)s"


@pytest.mark.parametrize(("name", "value"), [
    ("born", dt.date(1990, 5, 17)), ("seen", dt.datetime(2024, 3, 9, 13, 45, 7)), ("flag", True),
    ("price", 3.25), ("id", "1"), ("rate %", "10%"), ("Nick Name", "Annie")])
def test_each_type_of_lookup_value_finds_the_row(connector: SqlConnector, name: str, value: Scalar) -> None:
    """Dates and datetimes are text on SQLite, written in SQLAlchemy's format by the types' bind processors."""
    rendered = connector.retrieve(_spec(), _lookup(name, value)).rows
    assert [r["id"] for r in rendered] == [1]
    assert _typed(rendered) == _typed(connector.retrieve(_spec(), _longer(_lookup(name, value))).rows)


def test_lookups_of_several_fields_and_counts_find_the_same_rows_both_ways(connector: SqlConnector) -> None:
    spec = _spec()
    for values in ({"ref": ("k1",), "Nick Name": ("Bob",)}, {"ref": ("k3", "k9"), "born": (dt.date(1985, 11, 2),)},
                   {"ref": ("k9",)}, {"ref": ("k1", "k2")}, {"ref": ("k1",)}):
        lookup = Lookup(values=values)
        rendered = connector.retrieve(spec, lookup).rows
        assert _typed(rendered) == _typed(connector.retrieve(spec, _longer(lookup)).rows), values
    assert connector.retrieve(spec, Lookup(values={"ref": ("k1",), "Nick Name": ("Bob",)})).rows != ()


def _stored(url: str) -> dict[int, dict[str, Any]]:
    return {r["id"]: r for r in table_rows(url, kinds)}


@pytest.mark.parametrize("longer", [False, True], ids=["rendered", "sqlalchemy"])
def test_masks_and_corrections_store_what_sqlalchemy_stores(connector: SqlConnector, kinds_url: str,
                                                           longer: bool) -> None:
    """Mask values are held by the statement and corrections given per call: both through the bind processors."""
    spec = _spec(born=ErasureSpec(strategy=Strategy.MASK, value="2000-01-01"),
                 seen=ErasureSpec(strategy=Strategy.MASK, value="2001-02-03T04:05:06"),
                 flag=ErasureSpec(strategy=Strategy.MASK, value=False),
                 **{"rate %": ErasureSpec(strategy=Strategy.MASK, value="50%"),
                    "Nick Name": ErasureSpec(strategy=Strategy.NULLIFY)})
    lookup = _lookup("ref", "k1")
    lookup = _longer(lookup) if longer else lookup
    assert connector.erase(spec, lookup).rows_changed == 1
    assert connector.erase(spec, lookup).rows_changed == 0
    ann = _stored(kinds_url)[1]
    assert (ann["born"], ann["seen"], ann["flag"]) == (dt.date(2000, 1, 1), dt.datetime(2001, 2, 3, 4, 5, 6), False)
    assert (ann["rate %"], ann["Nick Name"]) == ("50%", None)
    assert _stored(kinds_url)[2]["Nick Name"] == "Bob"

    corrected = dt.datetime(2022, 7, 8, 9, 10, 11)
    assert connector.rectify(spec, lookup, "seen", corrected).rows_changed == 1
    assert connector.rectify(spec, lookup, "seen", corrected).rows_changed == 0
    assert connector.retrieve(spec, lookup).rows[0]["seen"] == corrected
    assert connector.rectify(spec, lookup, "rate %", "1%").rows_changed == 1
    assert _stored(kinds_url)[1]["rate %"] == "1%"


def test_deletes_count_the_rows_they_delete(connector: SqlConnector, kinds_url: str) -> None:
    spec = _spec(ref=ErasureSpec(strategy=Strategy.DELETE_ROW))
    assert connector.erase(spec, _lookup("ref", "k1", "k2", "k9")).rows_deleted == 2
    assert connector.erase(spec, _lookup("ref", "k1", "k2", "k9")).rows_deleted == 0
    assert connector.erase(spec, _longer(_lookup("ref", "k3"))).rows_deleted == 1
    assert _stored(kinds_url) == {}


def _failure(call: Any) -> ConnectorError:
    with pytest.raises(ConnectorError) as caught:
        call()
    return caught.value


def test_a_refusal_reads_the_same_on_both_paths_and_never_quotes_the_row(connector: SqlConnector,
                                                                        kinds_url: str) -> None:
    spec = _spec(note=ErasureSpec(strategy=Strategy.NULLIFY))
    lookup = _lookup("ref", "k1")
    refused = _failure(lambda: connector.erase(spec, lookup))
    assert refused.message.startswith("erasing table kinds for collection db.kinds failed: a constraint")
    assert (refused.message, refused.fix) == (_failure(lambda: connector.erase(spec, _longer(lookup))).message,
                                              _failure(lambda: connector.erase(spec, _longer(lookup))).fix)
    assert "k1" not in str(refused) and "n1" not in str(refused)

    secret = "a-secret-value-far-too-long"
    if not kinds_url.startswith("sqlite"):  # SQLite does not enforce lengths
        too_long = _failure(lambda: connector.rectify(spec, lookup, "note", secret))
        assert "does not fit the column's type or length" in too_long.message
        assert too_long.message == _failure(lambda: connector.rectify(spec, _longer(lookup), "note", secret)).message
        assert secret not in str(too_long) and too_long.__cause__ is None
        assert _stored(kinds_url)[1]["note"] == "n1"


def test_a_failed_statement_leaves_the_held_connection_usable(connector: SqlConnector, kinds_url: str) -> None:
    """Autocommit: a refused statement leaves no transaction behind to abort the next one, and what a statement
    changed is committed at once, before the batch ends."""
    spec = _spec(note=ErasureSpec(strategy=Strategy.NULLIFY))
    with connector.held():
        _failure(lambda: connector.erase(spec, _lookup("ref", "k1")))
        assert connector.rectify(spec, _lookup("ref", "k2"), "Nick Name", "Rob").rows_changed == 1
        assert _stored(kinds_url)[2]["Nick Name"] == "Rob"
        assert [r["id"] for r in connector.retrieve(spec, _lookup("ref", "k2")).rows] == [2]


def test_a_column_added_after_a_failed_check_is_found_on_retry(connector: SqlConnector, kinds_url: str) -> None:
    spec = _spec()
    assert len(connector.retrieve(spec, _lookup("ref", "k1")).rows) == 1
    wider = spec.model_copy(update={"fields": (*spec.fields, FieldSpec(name="wechat", type=FieldType.STRING))})
    with pytest.raises(MissingColumn):
        connector.retrieve(wider, _lookup("ref", "k1"))
    engine = create_engine(kinds_url)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE kinds ADD COLUMN wechat VARCHAR(40)"))
    engine.dispose()
    assert connector.retrieve(wider, _lookup("ref", "k1")).rows[0]["wechat"] is None
