"""`RedisConnector`: strings, hashes and sets under key patterns such as `session:{account_id}` or `cart:{id}:*`.

A collection's key pattern has one `{field}` placeholder, filled with the lookup's values for that field; a `*`
elsewhere in the pattern matches any text (found with SCAN). Every non-key field is a hash field (hash), the value
(string) or the members (set). Each key is changed in one MULTI/EXEC under WATCH, so a concurrent writer makes the
change retry instead of being overwritten.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import redis

from charter.connectors.base import (
    CollectionSpec,
    ConnectionTest,
    Connector,
    ConnectorError,
    ErasureRecord,
    Expiry,
    FieldSpec,
    Lookup,
    RectifyRecord,
    RedisType,
    Retrieved,
    Row,
    Scalar,
    Scan,
    StoreKind,
    Strategy,
)
from charter.connectors.transforms import coerce, erased_value

__all__ = ["PLACEHOLDER", "RedisConnector", "key_field", "placeholders"]

# redis-py types replies as unions of bytes, str and awaitables; with decode_responses=True they are str, so the
# pipeline is handled as Any rather than cast at every call.
Pipeline = Any

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_$-]*)\}")
_GLOB_SPECIAL = re.compile(r"([*?\[\]\\])")
_WATCH_RETRIES = 5


def placeholders(pattern: str) -> list[str]:
    return PLACEHOLDER.findall(pattern)


def key_field(spec: CollectionSpec) -> str:
    names = placeholders(spec.key or "")
    if len(names) != 1:
        raise ConnectorError(f"the key pattern of {spec.qualified_name} must have exactly one {{field}} placeholder",
                             fix="Write it like `session:{account_id}`; use `*` for other varying parts.")
    return names[0]


class RedisConnector(Connector):
    kind = StoreKind.REDIS

    def __init__(self, url: str, *, hash_key: bytes | None = None) -> None:
        self.client: redis.Redis = redis.Redis.from_url(url, decode_responses=True, socket_timeout=10)
        self.hash_key = hash_key

    def close(self) -> None:
        self.client.close()

    def test_connection(self) -> ConnectionTest:
        try:
            self.client.ping()
        except redis.RedisError as exc:
            return ConnectionTest(ok=False, message=f"cannot connect: {type(exc).__name__}")
        return ConnectionTest(ok=True, message="connected to redis")

    def retrieve(self, spec: CollectionSpec, lookup: Lookup) -> Retrieved:
        rows: list[dict[str, Any]] = []
        with _errors(spec, "reading"):
            for key, value in self._keys(spec, lookup):
                row = self._read(spec, key)
                if row is not None:
                    rows.append({key_field(spec): value, **row})
        return Retrieved(collection=spec.qualified_name, rows=tuple(rows))

    def erase(self, spec: CollectionSpec, lookup: Lookup) -> ErasureRecord:
        fields = {f.name: f.erasure.strategy for f in spec.fields if f.erasure is not None}
        deleted = changed = 0
        with _errors(spec, "erasing"):
            for key, _value in self._keys(spec, lookup):
                outcome = self._transact(key, partial(self._erase_key, spec=spec, key=key))
                deleted += outcome == "deleted"
                changed += outcome == "changed"
        return ErasureRecord(collection=spec.qualified_name, rows_deleted=deleted, rows_changed=changed,
                             fields=fields, held=spec.held)

    def rectify(self, spec: CollectionSpec, lookup: Lookup, field: str, value: Scalar) -> RectifyRecord:
        target = _value_field(spec, field)
        if spec.redis_type is RedisType.SET:
            raise ConnectorError(f"{spec.qualified_name} is a Redis set: a member cannot be corrected in place",
                                 fix="Erase the set and let the host write it again, or correct it in the host.")
        text = _text(coerce(value, target.type))
        changed = 0
        with _errors(spec, "correcting"):
            for key, _value in self._keys(spec, lookup):
                outcome = self._transact(key, partial(self._rectify_key, spec=spec, key=key, field=target, text=text))
                changed += outcome == "changed"
        return RectifyRecord(collection=spec.qualified_name, field=field, rows_changed=changed)

    def expire(self, spec: CollectionSpec, expiry: Expiry, *, dry_run: bool = False) -> Iterator[ErasureRecord]:
        """Every key of the pattern (SCAN, a page at a time) whose time field — a hash field holding an ISO 8601
        moment or Unix seconds — is before the cutoff; a value that cannot be read as a moment is left alone."""
        fields = {f.name: f.erasure.strategy for f in spec.fields if f.erasure is not None}
        name = key_field(spec)
        kept = {_text(v) for v in expiry.keep.values.get(name, ())} if expiry.keep is not None else set()
        would = 0
        with _errors(spec, "sweeping"):
            for keys in _pages(spec, self.client.scan_iter(match=_glob(spec), count=expiry.chunk_size),
                               expiry.chunk_size):
                deleted = changed = 0
                for key, value in keys:
                    if value in kept or not self._is_expired(spec, key, expiry):
                        continue
                    if dry_run:
                        would += 1
                        continue
                    outcome = self._transact(key, partial(self._erase_key, spec=spec, key=key))
                    deleted += outcome == "deleted"
                    changed += outcome == "changed"
                if not dry_run:
                    yield ErasureRecord(collection=spec.qualified_name, rows_deleted=deleted, rows_changed=changed,
                                        fields=fields, held=spec.held)
        if dry_run:
            counts = {"rows_deleted": would} if spec.deletes_rows else {"rows_changed": would}
            yield ErasureRecord(collection=spec.qualified_name, fields=fields, held=spec.held, **counts)

    def scan(self, spec: CollectionSpec, scan: Scan) -> Iterator[tuple[Row, ...]]:
        name = key_field(spec)
        with _errors(spec, "reading"):
            for keys in _pages(spec, self.client.scan_iter(match=_glob(spec), count=scan.chunk_size),
                               scan.chunk_size):
                page: list[Row] = []
                for key, value in keys:
                    row = self._read(spec, key)
                    if row is None or not _in_window(row, scan):
                        continue
                    full = {name: value, **row}
                    page.append({f: full.get(f) for f in scan.fields})
                if page:
                    yield tuple(page)

    def _is_expired(self, spec: CollectionSpec, key: str, expiry: Expiry) -> bool:
        if expiry.field is None:
            return True
        if (spec.redis_type or RedisType.STRING) is not RedisType.HASH:
            raise ConnectorError(f"{spec.qualified_name} is not a Redis hash, so it has no field {expiry.field!r} to "
                                 "sweep by", fix="Let Redis expire such keys with a TTL the host sets.")
        at = _moment(str(self.client.hget(key, expiry.field) or ""))
        return at is not None and expiry.before is not None and at < _utc(expiry.before)

    # --- keys ------------------------------------------------------------------------------------------------

    def _keys(self, spec: CollectionSpec, lookup: Lookup) -> Iterator[tuple[str, Scalar]]:
        """Each existing key of the person, with the lookup value it was found by."""
        name = key_field(spec)
        pattern = spec.key or ""
        seen: set[str] = set()
        for value in lookup.values.get(name, ()):
            if value is None:
                continue
            text = _text(value)
            if "*" in pattern:
                match = pattern.replace("{" + name + "}", _GLOB_SPECIAL.sub(r"\\\1", text))
                keys: list[str] = list(self.client.scan_iter(match=match, count=500))
            else:
                keys = [pattern.replace("{" + name + "}", text)]
            for key in keys:
                if key not in seen:
                    seen.add(key)
                    yield key, value

    def _read(self, spec: CollectionSpec, key: str) -> dict[str, Any] | None:
        kind = self._type_of(spec, key)
        if kind is None:
            return None
        values = _value_fields(spec)
        if kind is RedisType.STRING:
            return {values[0].name: self.client.get(key)}
        if kind is RedisType.SET:
            return {values[0].name: sorted(self.client.smembers(key))}
        found = self.client.hmget(key, [f.name for f in values])
        return {f.name: v for f, v in zip(values, found, strict=True)}

    def _type_of(self, spec: CollectionSpec, key: str, client: Any = None) -> RedisType | None:
        found = str((client or self.client).type(key))
        if found == "none":
            return None
        if found != (spec.redis_type or RedisType.STRING).value:
            raise ConnectorError(
                f"a key matching {spec.key!r} ({spec.qualified_name}) holds a Redis {found}, but the data map says "
                f"{(spec.redis_type or RedisType.STRING).value}",
                fix="Correct `redis_type:` in the data map, or the key pattern.", field=spec.qualified_name)
        return RedisType(found)

    def _transact(self, key: str, change: Callable[[Pipeline], str]) -> str:
        """Run `change` with `key` watched; it reads, then writes inside `pipe.multi()`."""
        for _attempt in range(_WATCH_RETRIES):
            pipe: Pipeline
            with self.client.pipeline() as pipe:
                try:
                    pipe.watch(key)
                    return change(pipe)
                except redis.WatchError:
                    continue
        raise ConnectorError("a key kept changing while Charter was erasing it",
                             fix="Run the task again; it is safe to repeat.")

    # --- one key ---------------------------------------------------------------------------------------------

    def _erase_key(self, pipe: Pipeline, *, spec: CollectionSpec, key: str) -> str:
        kind = self._type_of(spec, key, pipe)
        if kind is None:
            return "absent"
        if spec.deletes_rows:
            return _delete(pipe, key)
        if kind is RedisType.HASH:
            return self._erase_hash(pipe, spec, key)
        field = _value_fields(spec)[0]
        strategy = _strategy(field)
        if strategy is None or strategy is Strategy.KEEP:
            return "unchanged"
        if strategy is Strategy.NULLIFY:
            return _delete(pipe, key)
        return self._erase_set(pipe, key, field) if kind is RedisType.SET else self._erase_string(pipe, key, field)

    def _erase_string(self, pipe: Pipeline, key: str, field: FieldSpec) -> str:
        old = pipe.get(key)
        new = self._erased(field, old)
        if new == old:
            return "unchanged"
        pipe.multi()
        pipe.set(key, new, keepttl=True)
        pipe.execute()
        return "changed"

    def _erase_hash(self, pipe: Pipeline, spec: CollectionSpec, key: str) -> str:
        fields = [f for f in _value_fields(spec) if f in spec.erased_fields]
        old = dict(zip([f.name for f in fields], pipe.hmget(key, [f.name for f in fields]) if fields else [],
                       strict=True))
        removed = [f.name for f in fields if _strategy(f) is Strategy.NULLIFY and old[f.name] is not None]
        updates = {f.name: new for f in fields if _strategy(f) is not Strategy.NULLIFY and old[f.name] is not None
                   and (new := self._erased(f, old[f.name])) != old[f.name]}
        if not removed and not updates:
            return "unchanged"
        pipe.multi()
        if removed:
            pipe.hdel(key, *removed)
        if updates:
            pipe.hset(key, mapping=updates)
        pipe.execute()
        return "changed"

    def _erase_set(self, pipe: Pipeline, key: str, field: FieldSpec) -> str:
        old = set(pipe.smembers(key))
        new = {self._erased(field, member) for member in old}
        if new == old:
            return "unchanged"
        ttl = pipe.pttl(key)
        pipe.multi()
        pipe.delete(key)
        pipe.sadd(key, *new)
        if ttl > 0:
            pipe.pexpire(key, ttl)
        pipe.execute()
        return "changed"

    def _rectify_key(self, pipe: Pipeline, *, spec: CollectionSpec, key: str, field: FieldSpec, text: str) -> str:
        kind = self._type_of(spec, key, pipe)
        if kind is None:
            return "absent"
        old = pipe.get(key) if kind is RedisType.STRING else pipe.hget(key, field.name)
        if old == text:
            return "unchanged"
        pipe.multi()
        if kind is RedisType.STRING:
            pipe.set(key, text, keepttl=True)
        else:
            pipe.hset(key, field.name, text)
        pipe.execute()
        return "changed"

    def _erased(self, field: FieldSpec, value: str) -> str:
        assert field.erasure is not None  # noqa: S101 - callers pass erased fields only
        try:
            new = erased_value(field.erasure, coerce(value, field.type), hash_key=self.hash_key, length=field.length)
        except ValueError as exc:
            raise ConnectorError(f"field {field.name} is erased with a keyed hash, but no hash key was given",
                                 fix="Name the key's secret in the dataset's `hash_key:`.") from exc
        return _text(new)


def _glob(spec: CollectionSpec) -> str:
    """The key pattern with its placeholder as a wildcard: every key of the collection."""
    return PLACEHOLDER.sub("*", spec.key or "")


def _key_value(spec: CollectionSpec) -> re.Pattern[str]:
    """Reads the placeholder's value back out of a key."""
    parts = PLACEHOLDER.split(spec.key or "")  # literal, name, literal
    literal = [re.escape(p).replace(r"\*", ".*") for p in parts[::2]]
    return re.compile(literal[0] + "(.+?)" + "".join(literal[1:]) + r"\Z", re.DOTALL)


def _pages(spec: CollectionSpec, keys: Iterator[str], size: int) -> Iterator[list[tuple[str, str]]]:
    """SCAN's keys in pages of `size`, each with its placeholder's value. SCAN may repeat a key; erasing is
    idempotent, so a repeat is harmless and not worth remembering every key seen."""
    value_of = _key_value(spec)
    page: list[tuple[str, str]] = []
    for key in keys:
        match = value_of.match(key)
        if match is None:
            continue
        page.append((key, match.group(1)))
        if len(page) >= size:
            yield page
            page = []
    if page:
        yield page


def _moment(value: str | None) -> dt.datetime | None:
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return dt.datetime.fromtimestamp(float(text), dt.UTC)
    except ValueError:
        pass
    try:
        return _utc(dt.datetime.fromisoformat(text))
    except ValueError:
        return None


def _utc(at: dt.datetime) -> dt.datetime:
    return at.astimezone(dt.UTC) if at.tzinfo else at.replace(tzinfo=dt.UTC)


def _in_window(row: Row, scan: Scan) -> bool:
    if scan.field is None:
        return True
    at = _moment(row.get(scan.field))
    if at is None:
        return False
    if scan.since is not None and at < _utc(scan.since):
        return False
    return not (scan.until is not None and at > _utc(scan.until))


def _strategy(field: FieldSpec) -> Strategy | None:
    return field.erasure.strategy if field.erasure is not None else None


def _delete(pipe: Pipeline, key: str) -> str:
    pipe.multi()
    pipe.delete(key)
    pipe.execute()
    return "deleted"


def _value_fields(spec: CollectionSpec) -> list[FieldSpec]:
    name = key_field(spec)
    return [f for f in spec.fields if f.name != name]


def _value_field(spec: CollectionSpec, name: str) -> FieldSpec:
    for f in _value_fields(spec):
        if f.name == name:
            return f
    raise ConnectorError(f"{spec.qualified_name} has no value field {name!r}",
                         fix="Correct a field the data map declares (the key's placeholder cannot be corrected).",
                         field=name)


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if value is None else str(value)


@contextmanager
def _errors(spec: CollectionSpec, doing: str) -> Iterator[None]:
    try:
        yield
    except redis.RedisError as exc:
        raise ConnectorError(f"{doing} {spec.qualified_name} in Redis failed: {type(exc).__name__}",
                             fix="Check that Redis is reachable with the dataset's URL.") from None
