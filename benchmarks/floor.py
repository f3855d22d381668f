"""The floor a request's timing is compared with: the bare statements its plan needs, sent straight through the
drivers (psycopg, PyMySQL, redis-py) on connections opened beforehand, with nothing around them — no tasks, no
records, no audit, no encryption, no Charter database.

Access runs the plan's reads in order, each lookup filled from the person's email and the rows read before it
(`resolve_lookup`, the pure function the runner uses too). Erasure runs the same reads, then every UPDATE or
DELETE the erasure pass needs in one transaction per database (a hand-written script's fastest form), and the
Redis commands.
"""

# ruff: noqa: S608 - table and column names come from the data map, as the connectors'; values are parameters

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
import pymysql  # type: ignore[import-untyped]
import redis

from charter.connectors.base import CollectionSpec, Lookup, Strategy
from charter.datamap.plan import Plan, TaskSpec, resolve_lookup

__all__ = ["Floor"]

Rows = list[dict[str, Any]]


class Floor:
    def __init__(self, plan: Plan, *, postgres: str, mariadb: Mapping[str, Any] | None = None,
                 redis_url: str | None = None) -> None:
        self.plan = plan
        self.pg = psycopg.connect(postgres.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)
        self.maria = pymysql.connect(**mariadb, autocommit=True) if mariadb else None
        self.redis = redis.Redis.from_url(redis_url, decode_responses=True) if redis_url else None

    def close(self) -> None:
        self.pg.close()
        if self.maria is not None:
            self.maria.close()
        if self.redis is not None:
            self.redis.close()

    def access(self, email: str) -> dict[str, Rows]:
        found: dict[str, Rows] = {}
        identities = {"email": (email,)}
        for task in self.plan.access:
            lookup = resolve_lookup(task, identities, found)
            found[task.key] = [] if lookup.is_empty else self._read(task, lookup)
        return found

    def erase(self, email: str) -> None:
        found = self.access(email)
        identities = {"email": (email,)}
        with self.pg.transaction():
            if self.maria is not None:
                self.maria.begin()
            for task in self.plan.erasure:
                lookup = resolve_lookup(task, identities, found)
                if not lookup.is_empty:
                    self._erase(task, lookup)
            if self.maria is not None:
                self.maria.commit()

    # --- reads and writes ---------------------------------------------------------------------------------

    def _read(self, task: TaskSpec, lookup: Lookup) -> Rows:
        spec = task.collection
        if spec.key is not None:
            return self._redis_read(spec, lookup)
        names = [f.name for f in spec.fields]
        where, params = _where(lookup)
        sql = f"SELECT {', '.join(names)} FROM {spec.table or spec.name} WHERE {where}"
        if task.connection.kind.value == "mysql":
            assert self.maria is not None  # noqa: S101 - the variant opened it
            with self.maria.cursor() as cur:
                cur.execute(sql, params)
                return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        return [dict(zip(names, row, strict=True)) for row in self.pg.execute(sql, params).fetchall()]

    def _erase(self, task: TaskSpec, lookup: Lookup) -> None:
        spec = task.collection
        if spec.key is not None:
            self._redis_erase(spec, lookup)
            return
        where, params = _where(lookup)
        table = spec.table or spec.name
        if spec.deletes_rows:
            sql = f"DELETE FROM {table} WHERE {where}"
        else:
            sets, values = _assignments(spec)
            sql, params = f"UPDATE {table} SET {sets} WHERE {where}", [*values, *params]
        if task.connection.kind.value == "mysql":
            assert self.maria is not None  # noqa: S101
            with self.maria.cursor() as cur:
                cur.execute(sql, params)
        else:
            self.pg.execute(sql, params)

    def _keys(self, spec: CollectionSpec, lookup: Lookup) -> list[tuple[str, Any]]:
        pattern = spec.key or ""
        name = pattern[pattern.index("{") + 1:pattern.index("}")]
        return [(pattern.replace("{" + name + "}", str(v)), v) for v in lookup.values.get(name, ())]

    def _redis_read(self, spec: CollectionSpec, lookup: Lookup) -> Rows:
        assert self.redis is not None  # noqa: S101
        fields = [f.name for f in spec.fields if "{" + f.name + "}" not in (spec.key or "")]
        rows: Rows = []
        for key, value in self._keys(spec, lookup):
            if spec.redis_type is not None and spec.redis_type.value == "hash":
                got = self.redis.hmget(key, fields)
                if any(v is not None for v in got):
                    rows.append({"key": value, **dict(zip(fields, got, strict=True))})
            else:
                text = self.redis.get(key)
                if text is not None:
                    rows.append({"key": value, fields[0]: text})
        return rows

    def _redis_erase(self, spec: CollectionSpec, lookup: Lookup) -> None:
        assert self.redis is not None  # noqa: S101
        keys = self._keys(spec, lookup)
        if spec.deletes_rows:
            self.redis.delete(*(k for k, _ in keys))
            return
        nulled = [f.name for f in spec.erased_fields]
        for key, _value in keys:
            self.redis.hdel(key, *nulled)


def _where(lookup: Lookup) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    for name, values in lookup.values.items():
        if values:
            clauses.append(f"{name} IN ({', '.join(['%s'] * len(values))})")
            params.extend(values)
    return " OR ".join(clauses) or "FALSE", params


def _assignments(spec: CollectionSpec) -> tuple[str, Sequence[Any]]:
    sets: list[str] = []
    values: list[Any] = []
    for field in spec.erased_fields:
        assert field.erasure is not None  # noqa: S101
        if field.erasure.strategy is Strategy.NULLIFY:
            sets.append(f"{field.name} = NULL")
        elif field.erasure.strategy is Strategy.MASK:
            sets.append(f"{field.name} = %s")
            values.append(field.erasure.value)
        else:
            raise ValueError(f"the floor has no bare SQL for {field.erasure.strategy.value}")
    return ", ".join(sets), values
