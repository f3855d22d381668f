"""`SqlConnector`: PostgreSQL, MySQL/MariaDB and SQLite through SQLAlchemy Core.

Connection handling lives here; the statements come from `sql_queries`. Before touching a table the connector
checks that the table and every declared column exist, so a data map that names a missing one fails with an
error naming it instead of silently matching nothing.

Reads and the changes that are one statement (a bulk UPDATE, a DELETE, a correction) run in autocommit: one
statement is atomic on its own, and a BEGIN and a COMMIT or ROLLBACK around it would be two more round trips.
Their SQL is rendered once per collection and lookup shape (`_Rendered`) and sent straight to the driver's cursor,
so a call costs little more than the statement itself.
Changes computed row by row (keyed hashes, prefixes) and retention sweeps run in transactions. Inside `held()`
(a request's batch of tasks) a thread keeps one connection: in autocommit for a batch of reads, in one transaction
for a batch of changes (`atomic`), which commits once instead of once per statement. The pool checks a connection
is alive only when it was unused for a second or more (`charter.core.db.ping_when_idle`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Delete,
    Select,
    TableClause,
    Update,
    and_,
    create_engine,
    inspect,
    select,
)
from sqlalchemy.engine import Dialect, Engine, make_url
from sqlalchemy.engine.interfaces import DBAPICursor, DBAPIModule
from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    IntegrityError,
    NoSuchTableError,
    OperationalError,
    SQLAlchemyError,
)

from charter.connectors import sql_queries as q
from charter.connectors.base import (
    CollectionSpec,
    ConnectionTest,
    Connector,
    ConnectorError,
    ErasureRecord,
    Expiry,
    Lookup,
    MissingColumn,
    MissingTable,
    RectifyRecord,
    Retrieved,
    Row,
    Scalar,
    Scan,
    StoreKind,
)
from charter.connectors.transforms import erased_value
from charter.core.db import normalise_url, ping_when_idle

__all__ = ["SqlConnector"]

_STATEMENT_CACHE = 1024
_RENDERED_VALUES = 32
"""Lookups with at most this many values per field run as SQL rendered for exactly that many; longer ones as one
SQLAlchemy statement with expanding parameters, whose per-call cost is small beside such a statement's own."""
_KINDS = {"postgresql": StoreKind.POSTGRESQL, "mysql": StoreKind.MYSQL, "mariadb": StoreKind.MYSQL,
          "sqlite": StoreKind.SQLITE}
_REFUSALS: tuple[tuple[type[DBAPIError], str], ...] = (
    (IntegrityError, "a constraint (NOT NULL, unique or foreign key) refused the change"),
    (DataError, "a value does not fit the column's type or length"),
    (OperationalError, "the database could not run it (unreachable, locked, or an object is missing)"),
)


class SqlConnector(Connector):
    """One SQL database. `url` is a SQLAlchemy URL (credentials included), e.g. from a named secret."""

    def __init__(self, url: str, *, hash_key: bytes | None = None, pool_size: int = 5) -> None:
        parsed = make_url(normalise_url(url))
        kind = _KINDS.get(parsed.get_backend_name())
        if kind is None:
            raise ConnectorError(f"{parsed.get_backend_name()!r} databases are not supported",
                                 fix="Use a postgresql://, mysql:// (MariaDB too) or sqlite:/// URL.")
        self.kind = kind
        self.hash_key = hash_key
        url_text = parsed.render_as_string(hide_password=False)
        self.engine = _engine(url_text, kind, pool_size)
        self._autocommit_engine = _engine(url_text, kind, pool_size, autocommit=True)
        self._held = threading.local()
        self._columns: dict[tuple[str | None, str], frozenset[str]] = {}
        self._statements: dict[tuple[str, CollectionSpec, tuple[str, ...], str], _Statement | None] = {}
        self._rendered: dict[tuple[str, CollectionSpec, tuple[str, ...], tuple[int, ...], str], _Rendered | None] = {}

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()
        self._autocommit_engine.dispose()

    @contextmanager
    def held(self, *, atomic: bool = False) -> Iterator[None]:
        """This thread's calls in the block share one connection, checked out at the first call: in autocommit, or
        (`atomic`) in one transaction committed when the block ends and rolled back if it raises."""
        if getattr(self._held, "wanted", False):
            yield
            return
        self._held.conn, self._held.wanted, self._held.atomic = None, True, atomic
        try:
            yield
        except BaseException:
            conn = self._let_go()
            if conn is not None:
                with suppress(SQLAlchemyError):
                    conn.close()  # a transaction still open is rolled back
            raise
        conn = self._let_go()
        if conn is not None:
            try:
                if conn.in_transaction():
                    self._commit(conn)
            finally:
                conn.close()

    def _let_go(self) -> Connection | None:
        conn: Connection | None = self._held.conn
        self._held.conn, self._held.wanted, self._held.atomic = None, False, False
        return conn

    def _commit(self, conn: Connection) -> None:
        try:
            conn.commit()
        except DBAPIError as exc:
            reason = "the connection was lost" if exc.connection_invalidated else "the database refused it"
            raise ConnectorError(f"committing the batch's changes to the {self.dialect} database failed: {reason}; "
                                 "none of them was recorded as done",
                                 fix="Check that the database is up, then retry the request: every change it "
                                     "makes can safely be made again.") from None

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        """A connection for one atomic statement: this thread's held one (checked out at its first use; in a
        transaction when the block is atomic), or a fresh one in autocommit."""
        conn: Connection | None = getattr(self._held, "conn", None)
        if conn is None and getattr(self._held, "wanted", False):
            conn = self._held.conn = self._checkout_held()
        if conn is not None:
            yield conn
            return
        with self._autocommit_engine.connect() as fresh:
            yield fresh

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """A connection in a transaction for several statements: the held atomic block's, or a new one."""
        if getattr(self._held, "wanted", False) and self._held.atomic:
            with self._connection() as conn:
                yield conn
            return
        with self.engine.begin() as conn:
            yield conn

    def _checkout_held(self) -> Connection:
        if not self._held.atomic:
            return self._autocommit_engine.connect()
        conn = self.engine.connect()
        conn.begin()
        return conn

    def test_connection(self) -> ConnectionTest:
        try:
            with self.engine.connect() as conn:
                conn.execute(select(1))
        except SQLAlchemyError as exc:
            return ConnectionTest(ok=False, message=_connect_failure(exc))
        return ConnectionTest(ok=True, message=f"connected to {self.dialect}")

    def verify(self, spec: CollectionSpec) -> None:
        """Raise `MissingTable`/`MissingColumn` unless the table and every declared column exist."""
        with self._guard(spec, "checking"), self.engine.connect() as conn:
            self._verify(conn, spec)

    def retrieve(self, spec: CollectionSpec, lookup: Lookup) -> Retrieved:
        if lookup.is_empty:
            return Retrieved(collection=spec.qualified_name)
        names = q.lookup_names(lookup)
        with self._guard(spec, "reading"), self._connection() as conn:
            rows, _ = self._run(conn, ("select", spec, names, ""), lookup,
                                lambda tbl, counts: q.select_rows(tbl, names, counts))
        return Retrieved.model_construct(collection=spec.qualified_name, rows=rows)

    def erase(self, spec: CollectionSpec, lookup: Lookup) -> ErasureRecord:
        record = _record(spec)
        if lookup.is_empty or not (spec.deletes_rows or spec.erased_fields):
            return record
        names = q.lookup_names(lookup)
        if spec.deletes_rows or q.is_bulk(spec.erased_fields):
            with self._guard(spec, "erasing"), self._connection() as conn:  # one statement: atomic on its own
                _, count = self._run(conn, ("erase", spec, names, ""), lookup,
                                     lambda tbl, counts: self._erasure(tbl, spec, names, counts))
            return record.model_copy(update={"rows_deleted" if spec.deletes_rows else "rows_changed": count})
        tbl = q.table_of(spec)
        params = q.lookup_params(spec, lookup, names)
        with self._guard(spec, "erasing"), self._transaction() as conn:
            self._verify(conn, spec)
            changed = self._erase_row_by_row(conn, spec, tbl, q.rows_for_erasure(tbl, spec, names), params)
        return record.model_copy(update={"rows_changed": changed})

    def expire(self, spec: CollectionSpec, expiry: Expiry, *, dry_run: bool = False) -> Iterator[ErasureRecord]:
        """Chunks walk the primary key (`key > last AND key <= chunk's last`), each its own transaction, so a
        sweep of millions of rows holds neither memory nor locks; without a single-column key, one statement."""
        record = _record(spec)
        if not (spec.deletes_rows or spec.erased_fields):
            yield record
            return
        tbl = q.table_of(spec)
        with self._guard(spec, "sweeping"):
            with self.engine.connect() as conn:
                self._verify(conn, spec)
            where = q.expiry_where(tbl, spec, expiry)
            if dry_run:
                yield record.model_copy(update=self._would_erase(spec, tbl, where))
                return
            key = q.single_key(spec)
            if key is None:
                with self.engine.begin() as conn:
                    yield record.model_copy(update=self._erase_where(conn, spec, tbl, where))
                return
            yield from self._expire_in_chunks(spec, tbl, record, where=where, key=key, size=expiry.chunk_size)

    def scan(self, spec: CollectionSpec, scan: Scan) -> Iterator[tuple[Row, ...]]:
        tbl = q.table_of(spec)
        with self._guard(spec, "reading"), self.engine.connect() as conn:
            self._verify(conn, spec)
            streamed = conn.execution_options(stream_results=True, yield_per=scan.chunk_size)
            result = streamed.execute(q.scan_rows(tbl, spec, scan)).mappings()
            for part in result.partitions(scan.chunk_size):
                yield tuple(dict(r) for r in part)

    def rectify(self, spec: CollectionSpec, lookup: Lookup, field: str, value: Scalar) -> RectifyRecord:
        if lookup.is_empty:
            return RectifyRecord(collection=spec.qualified_name, field=field)
        _declared(spec, field)
        names = q.lookup_names(lookup)
        with self._guard(spec, "correcting"), self._connection() as conn:
            _, changed = self._run(conn, ("rectify", spec, names, field), lookup,
                                   lambda tbl, counts: q.rectify_rows(tbl, spec, names, field, counts),
                                   q.rectify_params(spec, field, value))
        return RectifyRecord(collection=spec.qualified_name, field=field, rows_changed=changed)

    # --- internals ---------------------------------------------------------------------------------------------

    def _expire_in_chunks(self, spec: CollectionSpec, tbl: TableClause, record: ErasureRecord, *,
                          where: ColumnElement[bool], key: str, size: int) -> Iterator[ErasureRecord]:
        after: Any = None
        while True:
            with self.engine.begin() as conn:
                upper, found = conn.execute(q.chunk_bounds(tbl, key, where, after, size)).one()
                if not found:
                    return
                counts = self._erase_where(conn, spec, tbl, and_(where, q.in_chunk(tbl, key, after, upper)))
            yield record.model_copy(update=counts)
            if found < size:
                return
            after = upper

    def _run(self, conn: Connection, shape: _Shape, lookup: Lookup, build: _Build,
             values: Mapping[str, Any] | None = None) -> tuple[tuple[Row, ...], int]:
        """Run the one statement of this shape (kind, collection, lookup fields, extra) for this lookup: its rows (a
        SELECT) and its row count. The SQL rendered for these value counts goes straight to the driver; it is
        rendered after the collection is verified, so a shape rendered before needs no check."""
        kind, spec, names, extra = shape
        counts = q.lookup_counts(lookup, names)
        if max(counts) > _RENDERED_VALUES:
            return self._run_expanding(conn, shape, lookup, build, values)
        key = (kind, spec, names, counts, extra)
        rendered = self._rendered.get(key, _UNSEEN)
        if rendered is _UNSEEN:
            self._verify(conn, spec)
            statement = build(q.table_of(spec), counts)
            rendered = None if statement is None else _Rendered(statement, self.engine.dialect)
            if len(self._rendered) >= _STATEMENT_CACHE:
                self._rendered.clear()
            self._rendered[key] = rendered
        if not isinstance(rendered, _Rendered):
            return (), 0
        given = q.lookup_values(spec, lookup, names)
        return rendered.run(conn, {**given, **values} if values else given)

    def _run_expanding(self, conn: Connection, shape: _Shape, lookup: Lookup, build: _Build,
                       values: Mapping[str, Any] | None) -> tuple[tuple[Row, ...], int]:
        """The statement of this shape with one expanding parameter per lookup field, built once (SQLAlchemy then
        reuses its compiled form), run through SQLAlchemy."""
        kind, spec, names, extra = shape
        self._verify(conn, spec)
        key = (kind, spec, names, extra)
        if key in self._statements:
            statement = self._statements[key]
        else:
            if len(self._statements) >= _STATEMENT_CACHE:
                self._statements.clear()
            statement = self._statements[key] = build(q.table_of(spec), None)
        if statement is None:
            return (), 0
        result = conn.execute(statement, {**q.lookup_params(spec, lookup, names), **(values or {})})
        if not result.returns_rows:
            return (), result.rowcount
        columns = list(result.keys())
        return tuple(dict(zip(columns, row, strict=True)) for row in result.all()), result.rowcount

    def _erasure(self, tbl: TableClause, spec: CollectionSpec, names: tuple[str, ...],
                 counts: Sequence[int] | None) -> _Statement | None:
        if spec.deletes_rows:
            return q.delete_rows(tbl, names, counts)
        return q.bulk_erasure(tbl, spec, names, self.dialect, counts)

    def _erase_where(self, conn: Connection, spec: CollectionSpec, tbl: TableClause,
                     where: ColumnElement[bool]) -> dict[str, int]:
        if spec.deletes_rows:
            return {"rows_deleted": conn.execute(q.delete_where(tbl, where)).rowcount}
        if q.is_bulk(spec.erased_fields):
            statement = q.bulk_erasure_where(tbl, spec, where, self.dialect)
            return {"rows_changed": conn.execute(statement).rowcount if statement is not None else 0}
        return {"rows_changed": self._erase_row_by_row(conn, spec, tbl, q.rows_for_erasure_where(tbl, spec, where))}

    def _would_erase(self, spec: CollectionSpec, tbl: TableClause, where: ColumnElement[bool]) -> dict[str, int]:
        with self.engine.connect() as conn:
            if spec.deletes_rows:
                return {"rows_deleted": conn.execute(q.count_rows(tbl, where)).scalar_one()}
            if q.is_bulk(spec.erased_fields):
                where = and_(where, q.would_change(tbl, spec, self.dialect))
            return {"rows_changed": conn.execute(q.count_rows(tbl, where)).scalar_one()}

    def _erase_row_by_row(self, conn: Connection, spec: CollectionSpec, tbl: TableClause, rows: Select[Any],
                          params: dict[str, Any] | None = None) -> int:
        """Strategies computed in Python (keyed hash, prefix, rounding): read, compute, write each changed row."""
        changes: list[dict[str, Any]] = []
        for row in conn.execute(rows, params or {}).mappings():
            old = dict(row)
            new = {f.name: self._erased(f.name, spec, old[f.name]) for f in spec.erased_fields}
            if any(new[name] != old[name] for name in new):
                changes.append(q.row_parameters(spec, old, new))
        if changes:
            conn.execute(q.row_update(tbl, spec), changes)
        return len(changes)

    def _erased(self, name: str, spec: CollectionSpec, value: object) -> object:
        field = spec.field(name)
        assert field.erasure is not None  # noqa: S101 - only erased fields come here
        try:
            return erased_value(field.erasure, value, hash_key=self.hash_key, length=field.length)
        except ValueError as exc:
            raise ConnectorError(f"field {spec.qualified_name}.{name} is erased with a keyed hash, but no hash key "
                                 "was given", fix="Name the key's secret in the dataset's `hash_key:`.") from exc

    def _verify(self, conn: Connection, spec: CollectionSpec) -> None:
        table = spec.table or spec.name
        key = (spec.db_schema, table)
        columns = self._columns.get(key)
        if columns is None or any(f.name not in columns for f in spec.fields):
            # Read again before failing: the fix we suggest is adding the column, and a retry must then work.
            columns = _columns_of(conn, spec, table)
            self._columns[key] = columns
        missing = [f.name for f in spec.fields if f.name not in columns]
        if missing:
            where = _where(spec)
            raise MissingColumn(
                f"the data map's collection {spec.qualified_name} names column(s) {', '.join(missing)} that "
                f"{where} does not have",
                fix=f"Correct the field names in the data map (the table has: {', '.join(sorted(columns))}), "
                    "or add the columns to the database.", field=f"{spec.qualified_name}.{missing[0]}")

    @contextmanager
    def _guard(self, spec: CollectionSpec, doing: str) -> Iterator[None]:
        """Database errors become `ConnectorError`s that name the table and never quote the database's message,
        which can contain the row's values."""
        try:
            yield
        except DBAPIError as exc:
            reason = next((text for cls, text in _REFUSALS if isinstance(exc, cls)), "the statement failed")
            code = _error_code(exc)
            raise ConnectorError(
                f"{doing} {_where(spec)} for collection {spec.qualified_name} failed: {reason}"
                + (f" (database error {code})" if code else ""),
                fix="Check the data map against the table (types, NOT NULL columns, constraints) and the database's "
                    "own log for details.") from None


_Shape = tuple[str, CollectionSpec, tuple[str, ...], str]
_UNSEEN = object()
_Statement = Select[Any] | Update | Delete
_Build = Callable[[TableClause, Sequence[int] | None], _Statement | None]
_Processor = Callable[[Any], Any]


class _Rendered:
    """One statement compiled once, for one dialect and one count of lookup values, and run on the driver's cursor
    of the connection: SQLAlchemy's per-execution work (expanding parameters, an execution context, result
    metadata) is done once here. Values still pass through their types' bind processors and rows through their
    result processors, and driver errors become SQLAlchemy's `DBAPIError`s, as in SQLAlchemy's own execution."""

    __slots__ = ("_results", "dialect", "fixed", "given", "keys", "order", "sequence", "sql", "types")

    def __init__(self, statement: _Statement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise ValueError("a rendered statement has one parameter per value")
        self.dialect = dialect
        self.sql = compiled.string
        self.order = tuple(compiled.positiontup or ()) if compiled.positional else None
        self.sequence: Callable[[list[Any]], Sequence[Any]] = dialect.execute_sequence_format
        self.given: dict[str, tuple[str, _Processor | None]] = {}
        """Parameters each call gives (lookup values, a correction): key → name in the SQL, bind processor."""
        self.fixed: dict[str, Any] = {}
        """Values the statement holds (masks, date formats), processed once: name in the SQL → value."""
        for bind, name in compiled.bind_names.items():
            sent = name if compiled.positional else compiled.escaped_bind_names.get(name, name)
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if bind.required:
                self.given[bind.key] = (sent, processor)
            else:
                self.fixed[sent] = bind.effective_value if processor is None else processor(bind.effective_value)
        selected = statement.selected_columns if isinstance(statement, Select) else ()
        self.keys = tuple(c.name for c in selected)
        self.types = tuple(c.type for c in selected)
        self._results: tuple[tuple[int, _Processor], ...] | None = None

    def run(self, conn: Connection, given: Mapping[str, Any]) -> tuple[tuple[Row, ...], int]:
        """The rows (a SELECT) and the row count. `conn` is in autocommit: the statement is atomic on its own."""
        params = self.parameters(given)
        cursor = conn.connection.cursor()
        try:
            cursor.execute(self.sql, params)
            return (self._rows(cursor) if self.keys else ()), cursor.rowcount
        except self.dialect.loaded_dbapi.Error as exc:
            raise self._failure(conn, cursor, exc) from exc
        finally:
            with suppress(self.dialect.loaded_dbapi.Error):
                cursor.close()

    def parameters(self, given: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        """The values in the driver's paramstyle: a sequence in placeholder order, or a dict by name."""
        values = dict(self.fixed)
        for key, (name, processor) in self.given.items():
            values[name] = given[key] if processor is None else processor(given[key])
        if self.order is None:
            return values
        return self.sequence([values[name] for name in self.order])

    def _rows(self, cursor: DBAPICursor) -> tuple[Row, ...]:
        fetched = cursor.fetchall()
        if not fetched:
            return ()
        processors = self._results
        if processors is None:  # from the first result's column types, kept as SQLAlchemy keeps its result metadata
            processors = self._results = self._result_processors(cursor)
        keys = self.keys
        if not processors:
            return tuple(dict(zip(keys, row, strict=True)) for row in fetched)
        return tuple(dict(zip(keys, _processed(row, processors), strict=True)) for row in fetched)

    def _result_processors(self, cursor: DBAPICursor) -> tuple[tuple[int, _Processor], ...]:
        description = cursor.description or ()
        found = ((i, kind.dialect_impl(self.dialect).result_processor(self.dialect, column[1]))
                 for i, (kind, column) in enumerate(zip(self.types, description, strict=True)))
        return tuple((i, p) for i, p in found if p is not None)

    def _failure(self, conn: Connection, cursor: DBAPICursor, exc: DBAPIModule.Error) -> BaseException:
        """The driver's error as SQLAlchemy raises it (so `_guard` words it the same), parameters hidden; a lost
        connection is invalidated, as SQLAlchemy does, so the pool does not hand it out again."""
        lost = self.dialect.is_disconnect(exc, conn.connection.dbapi_connection, cursor)
        if lost:
            conn.invalidate(exc)
        return DBAPIError.instance(self.sql, None, exc, self.dialect.loaded_dbapi.Error, hide_parameters=True,
                                   connection_invalidated=lost, dialect=self.dialect)


def _processed(row: Sequence[Any], processors: tuple[tuple[int, _Processor], ...]) -> list[Any]:
    values = list(row)
    for i, processor in processors:
        values[i] = processor(values[i])
    return values


def _record(spec: CollectionSpec) -> ErasureRecord:
    fields = {f.name: f.erasure.strategy for f in spec.fields if f.erasure is not None}
    return ErasureRecord(collection=spec.qualified_name, fields=fields, held=spec.held)


def _engine(url: str, kind: StoreKind, pool_size: int, *, autocommit: bool = False) -> Engine:
    """The pool of transactions, or (`autocommit`) the pool of single statements: its connections are put in
    autocommit once, when opened, and never hold a transaction to roll back when returned."""
    options: dict[str, Any] = {"isolation_level": "AUTOCOMMIT", "pool_reset_on_return": None} if autocommit else {}
    if kind is StoreKind.SQLITE:
        return create_engine(_sqlite_read_write(url), connect_args={"check_same_thread": False, "uri": True},
                             **options)
    return ping_when_idle(create_engine(url, pool_size=pool_size, **options))


def _sqlite_read_write(url: str) -> str:
    """Open an existing SQLite file only: a mistyped path must fail, not create an empty database."""
    database = make_url(url).database
    if not database or database == ":memory:":
        return url
    return f"sqlite:///file:{Path(database).resolve()}?mode=rw&uri=true"


def _columns_of(conn: Connection, spec: CollectionSpec, table: str) -> frozenset[str]:
    inspector = inspect(conn)
    try:
        return frozenset(c["name"] for c in inspector.get_columns(table, schema=spec.db_schema))
    except NoSuchTableError:
        tables = sorted(inspector.get_table_names(schema=spec.db_schema))
        shown = ", ".join(tables[:30]) + (" …" if len(tables) > 30 else "")
        raise MissingTable(
            f"the data map's collection {spec.qualified_name} names {_where(spec)}, which does not exist",
            fix=f"Correct `table:` (or the collection name) in the data map (the database has: "
                f"{shown or 'no tables'}), or create the table.", field=spec.qualified_name) from None


def _declared(spec: CollectionSpec, field: str) -> None:
    if all(f.name != field for f in spec.fields):
        raise ConnectorError(f"collection {spec.qualified_name} has no field {field!r} in the data map",
                             fix="Rectify a field the data map declares.", field=field)


def _where(spec: CollectionSpec) -> str:
    name = spec.table or spec.name
    return f"table {spec.db_schema}.{name}" if spec.db_schema else f"table {name}"


def _error_code(exc: DBAPIError) -> str:
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate:
        return str(sqlstate)
    args = getattr(orig, "args", ())
    return str(args[0]) if args and isinstance(args[0], int) else ""


def _connect_failure(exc: SQLAlchemyError) -> str:
    orig = getattr(exc, "orig", None) or exc
    first = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    return f"cannot connect: {first}"
