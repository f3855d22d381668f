"""Retention sweeps and scans through the connectors: expired rows erased chunk by chunk, held rows kept, scans
streamed in pages — on real SQLite, PostgreSQL, MariaDB and Redis."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, create_engine, select

from charter.connectors.base import (
    CollectionSpec,
    ErasureSpec,
    Expiry,
    FieldSpec,
    FieldType,
    Lookup,
    RedisType,
    Scan,
    Strategy,
)
from charter.connectors.manual import ManualConnector
from charter.connectors.redis import RedisConnector
from charter.connectors.sql import SqlConnector
from charter.core.i18n import Text
from tests.connectors.shop_tables import HASH_KEY, _fresh
from tests.services import fresh_redis_prefix

NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)
OLD = dt.datetime(2020, 1, 1, 8, 30)
NEW = dt.datetime(2025, 5, 30, 9, 0)

metadata = MetaData()
visits = Table("visits", metadata, Column("id", Integer, primary_key=True, autoincrement=False),
               Column("email", String(200)), Column("ip", String(64)), Column("created_at", DateTime))


def _spec(*, delete: bool = True) -> CollectionSpec:
    email = ErasureSpec(strategy=Strategy.DELETE_ROW) if delete else ErasureSpec(strategy=Strategy.HASH)
    return CollectionSpec(dataset="web", name="visits", fields=(
        FieldSpec(name="id", type=FieldType.INTEGER, is_primary_key=True),
        FieldSpec(name="email", type=FieldType.STRING, categories=("contact.email",), erasure=email),
        FieldSpec(name="ip", type=FieldType.STRING, categories=("device.ip",),
                  erasure=ErasureSpec(strategy=Strategy.NULLIFY)),
        FieldSpec(name="created_at", type=FieldType.DATETIME)))


def _rows() -> list[dict[str, object]]:
    rows = [{"id": i, "email": f"p{i}@example.com", "ip": f"10.0.0.{i}", "created_at": OLD} for i in range(1, 21)]
    rows += [{"id": i, "email": f"p{i}@example.com", "ip": f"10.0.0.{i}", "created_at": NEW} for i in range(21, 26)]
    rows[2]["email"] = "held@example.com"
    return rows


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def visits_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with _fresh(request.param, tmp_path) as url:
        engine = create_engine(url)
        metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(visits.insert(), _rows())
        engine.dispose()
        yield url


def _table(url: str) -> list[dict[str, object]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(visits).order_by(visits.c.id)).mappings()]
    finally:
        engine.dispose()


def _expiry(**kw: object) -> Expiry:
    return Expiry(field="created_at", before=NOW - dt.timedelta(days=365), chunk_size=7, **kw)  # type: ignore[arg-type]


def test_expired_rows_are_deleted_in_chunks_and_fresh_ones_stay(visits_url: str) -> None:
    with SqlConnector(visits_url) as connector:
        records = list(connector.expire(_spec(), _expiry()))
    assert [r.rows_deleted for r in records] == [7, 7, 6]
    assert [r["id"] for r in _table(visits_url)] == [21, 22, 23, 24, 25]


def test_a_dry_run_counts_and_changes_nothing(visits_url: str) -> None:
    with SqlConnector(visits_url) as connector:
        [record] = connector.expire(_spec(), _expiry(), dry_run=True)
    assert record.rows_deleted == 20
    assert len(_table(visits_url)) == 25


def test_held_rows_are_kept_and_a_null_lookup_column_does_not_protect_a_row(visits_url: str) -> None:
    keep = Lookup(values={"email": ("held@example.com",)})
    with SqlConnector(visits_url) as connector:
        deleted = sum(r.rows_deleted for r in connector.expire(_spec(), _expiry(keep=keep)))
    assert deleted == 19
    assert [r["id"] for r in _table(visits_url)] == [3, 21, 22, 23, 24, 25]


def test_anonymising_strategies_change_expired_rows_in_place_once(visits_url: str) -> None:
    with SqlConnector(visits_url, hash_key=HASH_KEY) as connector:
        first = sum(r.rows_changed for r in connector.expire(_spec(delete=False), _expiry()))
        second = sum(r.rows_changed for r in connector.expire(_spec(delete=False), _expiry()))
    assert (first, second) == (20, 0)
    rows = _table(visits_url)
    assert len(rows) == 25
    assert all(r["ip"] is None and str(r["email"]).startswith("hmac:") for r in rows[:20])
    assert all(r["ip"] is not None and str(r["email"]).endswith("@example.com") for r in rows[20:])


def test_without_a_field_every_row_is_erased(visits_url: str) -> None:
    with SqlConnector(visits_url) as connector:
        assert sum(r.rows_deleted for r in connector.expire(_spec(), Expiry(chunk_size=10))) == 25
    assert _table(visits_url) == []


def test_a_scan_streams_pages_of_the_window(visits_url: str) -> None:
    scan = Scan(fields=("id", "email"), field="created_at", until=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
                chunk_size=6)
    with SqlConnector(visits_url) as connector:
        pages = list(connector.scan(_spec(), scan))
    assert [len(p) for p in pages] == [6, 6, 6, 2]
    assert sorted(r["id"] for p in pages for r in p) == list(range(1, 21))
    assert set(pages[0][0]) == {"id", "email"}


# --- Redis ------------------------------------------------------------------------------------------------------


def _session_spec(prefix: str, *, delete: bool = True) -> CollectionSpec:
    return CollectionSpec(dataset="cache", name="session", key=prefix + "session:{account}", redis_type=RedisType.HASH,
                          fields=(
        FieldSpec(name="account", type=FieldType.STRING,
                  erasure=ErasureSpec(strategy=Strategy.DELETE_ROW) if delete else None),
        FieldSpec(name="ip", type=FieldType.STRING, categories=("device.ip",),
                  erasure=ErasureSpec(strategy=Strategy.NULLIFY)),
        FieldSpec(name="seen_at", type=FieldType.DATETIME)))


@pytest.fixture
def cache() -> Iterator[tuple[str, str, redis.Redis]]:
    with fresh_redis_prefix() as (url, prefix):
        client = redis.Redis.from_url(url, decode_responses=True)
        for i in range(1, 13):
            seen = OLD.isoformat() if i <= 9 else str(NEW.replace(tzinfo=dt.UTC).timestamp())
            client.hset(f"{prefix}session:a{i}", mapping={"ip": f"10.0.0.{i}", "seen_at": seen})
        client.set(f"{prefix}other:a1", "not this collection")
        yield url, prefix, client
        client.close()


def test_redis_expired_keys_are_deleted_except_held_ones(cache: tuple[str, str, redis.Redis]) -> None:
    url, prefix, client = cache
    expiry = Expiry(field="seen_at", before=NOW - dt.timedelta(days=30), chunk_size=4,
                    keep=Lookup(values={"account": ("a2",)}))
    with RedisConnector(url) as connector:
        [dry] = connector.expire(_session_spec(prefix), expiry, dry_run=True)
        deleted = sum(r.rows_deleted for r in connector.expire(_session_spec(prefix), expiry))
    assert (dry.rows_deleted, deleted) == (8, 8)
    left = sorted(k.removeprefix(prefix) for k in client.scan_iter(match=prefix + "*"))
    assert left == ["other:a1", "session:a10", "session:a11", "session:a12", "session:a2"]


def test_redis_fields_are_anonymised_and_scans_filter_by_the_window(cache: tuple[str, str, redis.Redis]) -> None:
    url, prefix, client = cache
    expiry = Expiry(field="seen_at", before=NOW - dt.timedelta(days=30))
    with RedisConnector(url) as connector:
        changed = sum(r.rows_changed for r in connector.expire(_session_spec(prefix, delete=False), expiry))
        pages = list(connector.scan(_session_spec(prefix), Scan(fields=("account", "ip"), field="seen_at",
                                                                 since=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))))
    assert changed == 9
    assert client.hget(f"{prefix}session:a1", "ip") is None
    assert sorted(r["account"] for p in pages for r in p) == ["a10", "a11", "a12"]


def test_a_manual_store_answers_with_instructions() -> None:
    spec = CollectionSpec(dataset="archive", name="files", instructions=Text(zh="处理纸质档案", en="Shred the files"),
                          fields=(FieldSpec(name="phone", categories=("contact.phone",),
                                            erasure=ErasureSpec(strategy=Strategy.DELETE_ROW)),))
    [record] = ManualConnector(Text(zh="按说明", en="As described")).expire(spec, Expiry())
    assert record.manual is not None
    assert record.manual.instructions.en == "Shred the files"
