"""The SQL each operation runs, built with SQLAlchemy Core from a collection spec and a lookup, per dialect.

Nothing here connects to a database: `SqlConnector` runs these statements. Column names come from the data map
and are quoted by SQLAlchemy; values are always bound parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    Date,
    DateTime,
    Delete,
    Float,
    Integer,
    Select,
    String,
    TableClause,
    Update,
    and_,
    bindparam,
    cast,
    column,
    delete,
    false,
    func,
    literal,
    null,
    or_,
    select,
    table,
    update,
)
from sqlalchemy.types import TypeEngine

from charter.connectors.base import (
    CollectionSpec,
    ErasureSpec,
    FieldSpec,
    FieldType,
    Granularity,
    Lookup,
    Scalar,
    Strategy,
)
from charter.connectors.transforms import coerce

__all__ = [
    "bulk_erasure",
    "delete_rows",
    "is_bulk",
    "rectify_rows",
    "row_update",
    "rows_for_erasure",
    "select_rows",
    "table_of",
    "where_lookup",
]

_SQL_TYPES: dict[FieldType, Callable[[], TypeEngine[Any]]] = {
    FieldType.STRING: String,
    FieldType.INTEGER: Integer,
    FieldType.NUMBER: lambda: Float(asdecimal=False),
    FieldType.BOOLEAN: Boolean,
    FieldType.DATE: Date,
    FieldType.DATETIME: DateTime,
    FieldType.JSON: JSON,
}


def table_of(spec: CollectionSpec) -> TableClause:
    """A lightweight table of the declared fields (no reflection), typed where the data map gives a type."""
    columns = [column(f.name, _SQL_TYPES[f.type]() if f.type else None) for f in spec.fields]
    return table(spec.table or spec.name, *columns, schema=spec.db_schema)


def where_lookup(tbl: TableClause, spec: CollectionSpec, lookup: Lookup) -> ColumnElement[bool]:
    """Rows where any lookup field equals any of its values."""
    clauses = [
        tbl.c[name].in_([coerce(v, spec.field(name).type) for v in values])
        for name, values in lookup.values.items() if values
    ]
    return or_(*clauses) if clauses else false()


def select_rows(tbl: TableClause, spec: CollectionSpec, lookup: Lookup) -> Select[Any]:
    return select(*tbl.c).where(where_lookup(tbl, spec, lookup))


def delete_rows(tbl: TableClause, spec: CollectionSpec, lookup: Lookup) -> Delete:
    return delete(tbl).where(where_lookup(tbl, spec, lookup))


def rectify_rows(tbl: TableClause, spec: CollectionSpec, lookup: Lookup, field: str, value: Scalar) -> Update:
    col = tbl.c[field]
    bound = coerce(value, spec.field(field).type)
    return (update(tbl).where(where_lookup(tbl, spec, lookup), col.is_distinct_from(bound))
            .values({field: bound}))


# --- erasure --------------------------------------------------------------------------------------------------


def is_bulk(fields: Sequence[FieldSpec]) -> bool:
    """Whether every strategy can be written as one SQL expression, so one UPDATE erases every row."""
    return all(_sql_expressible(f.erasure) for f in fields if f.erasure is not None)


def _sql_expressible(erasure: ErasureSpec) -> bool:
    if erasure.strategy in (Strategy.NULLIFY, Strategy.MASK, Strategy.KEEP, Strategy.DELETE_ROW):
        return True
    return erasure.strategy is Strategy.GENERALISE and erasure.to is not None


def bulk_erasure(tbl: TableClause, spec: CollectionSpec, lookup: Lookup, dialect: str) -> Update | None:
    """One UPDATE setting every erased field, limited to rows it would change (so its row count is honest and
    a second run changes nothing)."""
    targets: dict[str, ColumnElement[Any]] = {}
    for f in spec.erased_fields:
        assert f.erasure is not None  # noqa: S101 - erased_fields only lists fields with an erasure
        targets[f.name] = _erased_expression(tbl.c[f.name], f, f.erasure, dialect)
    if not targets:
        return None
    changes = [tbl.c[name].is_distinct_from(expr) for name, expr in targets.items()]
    return update(tbl).where(where_lookup(tbl, spec, lookup), or_(*changes)).values(targets)


def _erased_expression(col: ColumnElement[Any], field: FieldSpec, erasure: ErasureSpec,
                       dialect: str) -> ColumnElement[Any]:
    if erasure.strategy is Strategy.NULLIFY:
        return null()
    if erasure.strategy is Strategy.MASK:
        return literal(coerce(erasure.value, field.type), col.type)
    assert erasure.to is not None  # noqa: S101 - is_bulk admits only date generalisation
    return start_of(col, erasure.to, is_datetime=field.type is FieldType.DATETIME, dialect=dialect)


def start_of(col: ColumnElement[Any], granularity: Granularity, *, is_datetime: bool,
             dialect: str) -> ColumnElement[Any]:
    """The first day of the value's year or month, written in the dialect's own date functions."""
    sql_type: TypeEngine[Any] = DateTime() if is_datetime else Date()
    if dialect == "postgresql":
        return cast(func.date_trunc(granularity.value, col), sql_type)
    if dialect in ("mysql", "mariadb"):
        month = "01" if granularity is Granularity.YEAR else "%m"
        text_format, parse = (f"%Y-{month}-01 00:00:00", "%Y-%m-%d %H:%i:%s") if is_datetime else (
            f"%Y-{month}-01", "%Y-%m-%d")
        return func.str_to_date(func.date_format(col, text_format), parse, type_=sql_type)
    month = "01" if granularity is Granularity.YEAR else "%m"
    # SQLAlchemy stores SQLite dates as text: keep its format so the host reads them back unchanged.
    text_format = f"%Y-{month}-01 00:00:00.000000" if is_datetime else f"%Y-{month}-01"
    return func.strftime(text_format, col, type_=String())


def rows_for_erasure(tbl: TableClause, spec: CollectionSpec, lookup: Lookup) -> Select[Any]:
    """The key and erased fields of the person's rows, locked until the transaction ends where the dialect can."""
    names = [f.name for f in spec.fields if f.is_primary_key]
    names += [f.name for f in spec.erased_fields if f.name not in names]
    return select(*(tbl.c[n] for n in names)).where(where_lookup(tbl, spec, lookup)).with_for_update()


def row_update(tbl: TableClause, spec: CollectionSpec) -> Update:
    """UPDATE one row by its primary key, every erased field a parameter: run with one parameter set per row."""
    keys = [f.name for f in spec.fields if f.is_primary_key]
    where = and_(*(tbl.c[name] == bindparam(f"_k{i}") for i, name in enumerate(keys)))
    values: dict[str, Any] = {f.name: bindparam(f"_v{i}") for i, f in enumerate(spec.erased_fields)}
    return update(tbl).where(where).values(values)


def row_parameters(spec: CollectionSpec, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    keys = [f.name for f in spec.fields if f.is_primary_key]
    params = {f"_k{i}": old[name] for i, name in enumerate(keys)}
    params.update({f"_v{i}": new[f.name] for i, f in enumerate(spec.erased_fields)})
    return params
