"""Real services the tests run against. Locally a missing one skips with its reason; under CI=true it fails."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"

POSTGRES = ("127.0.0.1", 5432)
MARIADB = ("127.0.0.1", 3306)
REDIS = ("127.0.0.1", 6379)
RABBITMQ = ("127.0.0.1", 5672)


def is_listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require(name: str, address: tuple[str, int]) -> None:
    if is_listening(*address):
        return
    reason = f"{name} is not reachable at {address[0]}:{address[1]}"
    if IN_CI:
        pytest.fail(f"{reason}, and CI=true needs it: start it (see the README's 'Services' section)")
    pytest.skip(f"{reason}; start it to run this test")


def require_file(name: str, path: Path) -> None:
    """Shared material beside the checkout (`../shared/`): skip locally when absent, fail under CI=true."""
    if path.exists():
        return
    if IN_CI:
        pytest.fail(f"{name} is missing at {path}, and CI=true needs it: CI runs with shared/ beside the clone")
    pytest.skip(f"{name} is missing at {path}")


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database for this run, dropped afterwards."""
    import psycopg  # noqa: PLC0415 - only when PostgreSQL tests run

    require("PostgreSQL", POSTGRES)
    name = f"charter_test_{uuid.uuid4().hex[:12]}"
    admin = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def fresh_mariadb_database() -> Iterator[str]:
    """A new, empty MariaDB database (`charter_t_<hex>`), dropped afterwards."""
    import pymysql  # noqa: PLC0415 - only when MariaDB tests run

    require("MariaDB", MARIADB)
    name = f"charter_t_{uuid.uuid4().hex[:12]}"

    def run(sql: str) -> None:
        conn = pymysql.connect(host=MARIADB[0], port=MARIADB[1], user="root", password="", autocommit=True)
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
        finally:
            conn.close()

    run(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    try:
        yield f"mysql+pymysql://root@{MARIADB[0]}:{MARIADB[1]}/{name}?charset=utf8mb4"
    finally:
        run(f"DROP DATABASE IF EXISTS `{name}`")


@contextmanager
def fresh_redis_prefix() -> Iterator[tuple[str, str]]:
    """Redis's URL and a random key prefix (`charter_t_<hex>:`); every key under the prefix is deleted afterwards."""
    import redis  # noqa: PLC0415 - only when Redis tests run

    require("Redis", REDIS)
    url = f"redis://{REDIS[0]}:{REDIS[1]}/0"
    prefix = f"charter_t_{uuid.uuid4().hex[:12]}:"
    try:
        yield url, prefix
    finally:
        client = redis.Redis.from_url(url)
        try:
            keys = list(client.scan_iter(match=prefix + "*", count=500))
            if keys:
                client.delete(*keys)
        finally:
            client.close()
