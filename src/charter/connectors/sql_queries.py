"""The SQL each operation runs, built with SQLAlchemy Core from a collection spec and a lookup, per dialect.

Nothing here connects to a database: `SqlConnector` runs these statements. Column names come from the data map
and are quoted by SQLAlchemy; values are always bound parameters.
"""

from __future__ import annotations

import datetime as dt
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
    not_,
    null,
    or_,
    select,
    table,
    true,
    update,
)
from sqlalchemy.types import TypeEngine

from charter.connectors.base import (
    CollectionSpec,
    ErasureSpec,
    Expiry,
    FieldSpec,
    FieldType,
    Granularity,
    Lookup,
    Scalar,
    Scan,
    Strategy,
)
from charter.connectors.transforms import coerce

__all__ = [
    "bulk_erasure",
    "bulk_erasure_where",
    "chunk_bounds",
    "count_rows",
    "delete_rows",
    "delete_where",
    "expiry_where",
    "in_chunk",
    "is_bulk",
    "lookup_counts",
    "lookup_names",
    "lookup_params",
    "lookup_values",
    "rectify_params",
    "rectify_rows",
    "row_update",
    "rows_for_erasure",
    "rows_for_erasure_where",
    "scan_rows",
    "select_rows",
    "single_key",
    "table_of",
    "where_lookup",
    "would_change",
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


def lookup_names(lookup: Lookup) -> tuple[str, ...]:
    """The lookup's fields that have values: what a statement's shape depends on (its values are parameters)."""
    return tuple(name for name, values in lookup.values.items() if values)


def _lookup_param(index: int) -> str:
    return f"_lookup_{index}"


def _value_param(index: int, position: int) -> str:
    return f"_lookup_{index}_{position}"


Counts = Sequence[int] | None
"""How many values each lookup field has, for a statement rendered for exactly that many (one parameter per
value, `lookup_values`); None: one expanding parameter per field, for any number (`lookup_params`)."""


def where_lookup(tbl: TableClause, names: Sequence[str], counts: Counts = None) -> ColumnElement[bool]:
    """Rows where any of these lookup fields equals any of its values: each field an expanding parameter
    (`lookup_params`), built once per collection and shape and reused; or, with `counts`, one parameter per value
    (`lookup_values`), so the SQL text is complete before any value is known and can be rendered once."""
    clauses = [tbl.c[name].in_(_lookup_binds(tbl.c[name], i, None if counts is None else counts[i]))
               for i, name in enumerate(names)]
    return or_(*clauses) if clauses else false()


def _lookup_binds(col: ColumnElement[Any], index: int, count: int | None) -> Any:
    if count is None:
        return bindparam(_lookup_param(index), expanding=True, type_=col.type)
    return [bindparam(_value_param(index, j), type_=col.type) for j in range(count)]


def lookup_params(spec: CollectionSpec, lookup: Lookup, names: Sequence[str]) -> dict[str, list[Any]]:
    """The values of `where_lookup`'s expanding parameters, coerced to each field's type."""
    return {_lookup_param(i): [coerce(v, spec.field(name).type) for v in lookup.values[name]]
            for i, name in enumerate(names)}


def lookup_values(spec: CollectionSpec, lookup: Lookup, names: Sequence[str]) -> dict[str, Any]:
    """The values of `where_lookup`'s one-per-value parameters (with `counts`), coerced to each field's type."""
    values: dict[str, Any] = {}
    for i, name in enumerate(names):
        kind = spec.field(name).type
        for j, value in enumerate(lookup.values[name]):
            values[_value_param(i, j)] = coerce(value, kind)
    return values


def lookup_counts(lookup: Lookup, names: Sequence[str]) -> tuple[int, ...]:
    return tuple(len(lookup.values[name]) for name in names)


def select_rows(tbl: TableClause, names: Sequence[str], counts: Counts = None) -> Select[Any]:
    return select(*tbl.c).where(where_lookup(tbl, names, counts))


def delete_rows(tbl: TableClause, names: Sequence[str], counts: Counts = None) -> Delete:
    return delete_where(tbl, where_lookup(tbl, names, counts))


def delete_where(tbl: TableClause, where: ColumnElement[bool]) -> Delete:
    return delete(tbl).where(where)


def rectify_rows(tbl: TableClause, spec: CollectionSpec, names: Sequence[str], field: str,
                 counts: Counts = None) -> Update:
    """Correct `field` to the parameter `_value` in the person's rows that differ from it."""
    col = tbl.c[field]
    value = bindparam("_value", type_=col.type)
    return update(tbl).where(where_lookup(tbl, names, counts), col.is_distinct_from(value)).values({field: value})


def rectify_params(spec: CollectionSpec, field: str, value: Scalar) -> dict[str, Any]:
    return {"_value": coerce(value, spec.field(field).type)}


# --- erasure --------------------------------------------------------------------------------------------------


def is_bulk(fields: Sequence[FieldSpec]) -> bool:
    """Whether every strategy can be written as one SQL expression, so one UPDATE erases every row."""
    return all(_sql_expressible(f.erasure) for f in fields if f.erasure is not None)


def _sql_expressible(erasure: ErasureSpec) -> bool:
    if erasure.strategy in (Strategy.NULLIFY, Strategy.MASK, Strategy.KEEP, Strategy.DELETE_ROW):
        return True
    return erasure.strategy is Strategy.GENERALISE and erasure.to is not None


def bulk_erasure(tbl: TableClause, spec: CollectionSpec, names: Sequence[str], dialect: str,
                 counts: Counts = None) -> Update | None:
    """One UPDATE setting every erased field, limited to rows it would change (so its row count is honest and
    a second run changes nothing)."""
    return bulk_erasure_where(tbl, spec, where_lookup(tbl, names, counts), dialect)


def bulk_erasure_where(tbl: TableClause, spec: CollectionSpec, where: ColumnElement[bool],
                       dialect: str) -> Update | None:
    targets = _erasure_targets(tbl, spec, dialect)
    if not targets:
        return None
    return update(tbl).where(where, would_change(tbl, spec, dialect)).values(targets)


def would_change(tbl: TableClause, spec: CollectionSpec, dialect: str) -> ColumnElement[bool]:
    """Rows a bulk erasure would change: some erased field differs from its erased value."""
    targets = _erasure_targets(tbl, spec, dialect)
    return or_(*(tbl.c[name].is_distinct_from(expr) for name, expr in targets.items())) if targets else false()


def _erasure_targets(tbl: TableClause, spec: CollectionSpec, dialect: str) -> dict[str, ColumnElement[Any]]:
    targets: dict[str, ColumnElement[Any]] = {}
    for f in spec.erased_fields:
        assert f.erasure is not None  # noqa: S101 - erased_fields only lists fields with an erasure
        targets[f.name] = _erased_expression(tbl.c[f.name], f, f.erasure, dialect)
    return targets


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


def rows_for_erasure(tbl: TableClause, spec: CollectionSpec, names: Sequence[str]) -> Select[Any]:
    """The key and erased fields of the person's rows, locked until the transaction ends where the dialect can."""
    return rows_for_erasure_where(tbl, spec, where_lookup(tbl, names))


def rows_for_erasure_where(tbl: TableClause, spec: CollectionSpec, where: ColumnElement[bool]) -> Select[Any]:
    names = [f.name for f in spec.fields if f.is_primary_key]
    names += [f.name for f in spec.erased_fields if f.name not in names]
    return select(*(tbl.c[n] for n in names)).where(where).with_for_update()


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


# --- retention sweeps and scans -------------------------------------------------------------------------------


def expiry_where(tbl: TableClause, spec: CollectionSpec, expiry: Expiry) -> ColumnElement[bool]:
    """Expired rows: the time field before the cutoff (every row when there is no field), minus the held rows."""
    clauses: list[ColumnElement[bool]] = []
    if expiry.field is not None:
        if expiry.before is None:
            raise ValueError("an expiry on a field needs `before`")
        clauses.append(tbl.c[expiry.field] < moment(expiry.before, spec.field(expiry.field).type))
    if expiry.keep is not None and not expiry.keep.is_empty:
        clauses.append(not_(held_rows(tbl, spec, expiry.keep)))
    return and_(true(), *clauses)


def held_rows(tbl: TableClause, spec: CollectionSpec, lookup: Lookup) -> ColumnElement[bool]:
    """Rows matching the lookup, written so a NULL column reads as "not held" rather than as unknown."""
    return or_(*(
        and_(tbl.c[name].is_not(None), tbl.c[name].in_([coerce(v, spec.field(name).type) for v in values]))
        for name, values in lookup.values.items() if values
    ))


def moment(at: dt.datetime, field_type: FieldType | None) -> dt.date | dt.datetime:
    """The cutoff as the column holds it: a date for a date column, else a naive UTC datetime."""
    utc = at.astimezone(dt.UTC).replace(tzinfo=None) if at.tzinfo else at
    return utc.date() if field_type is FieldType.DATE else utc


def single_key(spec: CollectionSpec) -> str | None:
    """The primary key column, when there is exactly one: sweeps walk it in chunks."""
    keys = [f.name for f in spec.fields if f.is_primary_key]
    return keys[0] if len(keys) == 1 else None


def chunk_bounds(tbl: TableClause, key: str, where: ColumnElement[bool], after: Any, size: int) -> Select[Any, int]:
    """The last key and the row count of the next chunk of at most `size` matching rows after `after`."""
    col = tbl.c[key]
    clauses = [where] if after is None else [where, col > after]
    inner = select(col.label("k")).where(*clauses).order_by(col).limit(size).subquery()
    return select(func.max(inner.c.k), func.count())


def in_chunk(tbl: TableClause, key: str, after: Any, upper: Any) -> ColumnElement[bool]:
    col = tbl.c[key]
    return col <= upper if after is None else and_(col > after, col <= upper)


def count_rows(tbl: TableClause, where: ColumnElement[bool]) -> Select[int]:
    return select(func.count()).select_from(tbl).where(where)


def scan_rows(tbl: TableClause, spec: CollectionSpec, scan: Scan) -> Select[Any]:
    clauses: list[ColumnElement[bool]] = []
    if scan.field is not None:
        col, kind = tbl.c[scan.field], spec.field(scan.field).type
        if scan.since is not None:
            clauses.append(col >= moment(scan.since, kind))
        if scan.until is not None:
            clauses.append(col <= moment(scan.until, kind))
    return select(*(tbl.c[name] for name in scan.fields)).where(and_(true(), *clauses))
