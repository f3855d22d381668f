"""`RedisConnector` against a real Redis, every key under a random prefix that is removed afterwards."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from charter.connectors.base import (
    CollectionSpec,
    ConnectorError,
    ErasureSpec,
    FieldSpec,
    FieldType,
    Lookup,
    RedisType,
    Strategy,
)
from charter.connectors.redis import RedisConnector
from charter.connectors.transforms import keyed_hash
from charter.datamap.plan import plan_request
from tests.connectors.shop_tables import HASH_KEY
from tests.datamap.maps import shop
from tests.services import fresh_redis_prefix


@pytest.fixture
def redis_env() -> Iterator[tuple[RedisConnector, redis.Redis, str]]:
    with fresh_redis_prefix() as (url, prefix):
        client = redis.Redis.from_url(url, decode_responses=True)
        with RedisConnector(url, hash_key=HASH_KEY) as connector:
            yield connector, client, prefix
        client.close()


def _spec(prefix: str, key: str, redis_type: RedisType, *fields: FieldSpec, delete: bool = False) -> CollectionSpec:
    key_name = key[key.index("{") + 1:key.index("}")]
    erasure = ErasureSpec(strategy=Strategy.DELETE_ROW) if delete else None
    return CollectionSpec(dataset="cache", name="c", key=prefix + key, redis_type=redis_type,
                          fields=(FieldSpec(name=key_name, erasure=erasure), *fields))


def _erased(name: str, strategy: Strategy, **options: object) -> FieldSpec:
    return FieldSpec(name=name, type=FieldType.STRING, erasure=ErasureSpec(strategy=strategy, **options))


def test_the_planned_session_hash_is_read_and_erased(redis_env: tuple[RedisConnector, redis.Redis, str]) -> None:
    connector, client, prefix = redis_env
    task = next(t for t in plan_request(shop(), ["email"]).erasure if t.key == "sessions.session")
    spec = task.collection.model_copy(update={"key": prefix + (task.collection.key or "")})
    client.hset(f"{prefix}session:1", mapping={"ip": "10.0.0.1", "city": "Shanghai", "cart": "3 items"})
    client.expire(f"{prefix}session:1", 600)
    client.hset(f"{prefix}session:2", mapping={"ip": "10.0.0.2", "city": "Beijing"})

    rows = connector.retrieve(spec, Lookup(values={"customer_id": (1,)})).rows
    assert rows == ({"customer_id": 1, "ip": "10.0.0.1", "city": "Shanghai"},)
    record = connector.erase(spec, Lookup(values={"customer_id": (1,)}))
    assert (record.rows_changed, record.rows_deleted) == (1, 0)
    assert client.hgetall(f"{prefix}session:1") == {"city": "-", "cart": "3 items"}
    assert client.ttl(f"{prefix}session:1") > 0
    assert client.hgetall(f"{prefix}session:2") == {"ip": "10.0.0.2", "city": "Beijing"}
    again = connector.erase(spec, Lookup(values={"customer_id": (1,)}))
    assert (again.rows_changed, again.rows_deleted) == (0, 0)


def test_string_keys_found_by_a_glob_are_deleted(redis_env: tuple[RedisConnector, redis.Redis, str]) -> None:
    connector, client, prefix = redis_env
    spec = _spec(prefix, "token:{email}:*", RedisType.STRING, FieldSpec(name="token"), delete=True)
    client.set(f"{prefix}token:ann@example.com:web", "t1")
    client.set(f"{prefix}token:ann@example.com:app", "t2")
    client.set(f"{prefix}token:bob@example.com:web", "t3")
    lookup = Lookup(values={"email": ("ann@example.com",)})
    assert sorted(r["token"] for r in connector.retrieve(spec, lookup).rows) == ["t1", "t2"]
    assert connector.erase(spec, lookup).rows_deleted == 2
    assert connector.erase(spec, lookup).rows_deleted == 0
    assert client.get(f"{prefix}token:bob@example.com:web") == "t3"


def test_a_glob_character_in_an_identity_matches_only_itself(redis_env: tuple[RedisConnector, redis.Redis,
                                                                                  str]) -> None:
    connector, client, prefix = redis_env
    spec = _spec(prefix, "token:{email}:*", RedisType.STRING, FieldSpec(name="token"), delete=True)
    client.set(f"{prefix}token:bob@example.com:web", "t3")
    assert connector.erase(spec, Lookup(values={"email": ("*",)})).rows_deleted == 0
    assert client.get(f"{prefix}token:bob@example.com:web") == "t3"


def test_a_string_value_is_hashed_once_and_keeps_its_expiry(redis_env: tuple[RedisConnector, redis.Redis,
                                                                                 str]) -> None:
    connector, client, prefix = redis_env
    spec = _spec(prefix, "nick:{account_id}", RedisType.STRING, _erased("nick", Strategy.HASH))
    client.set(f"{prefix}nick:u1", "annie", ex=600)
    lookup = Lookup(values={"account_id": ("u1",)})
    assert connector.erase(spec, lookup).rows_changed == 1
    assert connector.erase(spec, lookup).rows_changed == 0
    assert client.get(f"{prefix}nick:u1") == keyed_hash("annie", HASH_KEY)
    assert client.ttl(f"{prefix}nick:u1") > 0


def test_set_members_are_generalised_and_a_nullified_set_is_deleted(
        redis_env: tuple[RedisConnector, redis.Redis, str]) -> None:
    connector, client, prefix = redis_env
    client.sadd(f"{prefix}postcodes:u1", "200001", "200002", "100001")
    spec = _spec(prefix, "postcodes:{account_id}", RedisType.SET, _erased("codes", Strategy.GENERALISE, keep_chars=2))
    lookup = Lookup(values={"account_id": ("u1",)})
    assert connector.retrieve(spec, lookup).rows == ({"account_id": "u1", "codes": ["100001", "200001", "200002"]},)
    assert connector.erase(spec, lookup).rows_changed == 1
    assert client.smembers(f"{prefix}postcodes:u1") == {"20****", "10****"}
    assert connector.erase(spec, lookup).rows_changed == 0
    gone = _spec(prefix, "postcodes:{account_id}", RedisType.SET, _erased("codes", Strategy.NULLIFY))
    assert connector.erase(gone, lookup).rows_deleted == 1
    assert not client.exists(f"{prefix}postcodes:u1")


def test_rectify_a_string_and_a_hash_field(redis_env: tuple[RedisConnector, redis.Redis, str]) -> None:
    connector, client, prefix = redis_env
    client.set(f"{prefix}nick:u1", "annie")
    client.hset(f"{prefix}profile:u1", mapping={"city": "Shanghia"})
    lookup = Lookup(values={"account_id": ("u1",)})
    nick = _spec(prefix, "nick:{account_id}", RedisType.STRING, FieldSpec(name="nick"))
    assert connector.rectify(nick, lookup, "nick", "Ann").rows_changed == 1
    profile = _spec(prefix, "profile:{account_id}", RedisType.HASH, FieldSpec(name="city"))
    assert connector.rectify(profile, lookup, "city", "Shanghai").rows_changed == 1
    assert connector.rectify(profile, lookup, "city", "Shanghai").rows_changed == 0
    assert (client.get(f"{prefix}nick:u1"), client.hget(f"{prefix}profile:u1", "city")) == ("Ann", "Shanghai")
    members = _spec(prefix, "tags:{account_id}", RedisType.SET, FieldSpec(name="tags"))
    with pytest.raises(ConnectorError, match="set"):
        connector.rectify(members, lookup, "tags", "x")


def test_a_key_of_another_type_is_a_clear_error_that_does_not_quote_the_key(
        redis_env: tuple[RedisConnector, redis.Redis, str]) -> None:
    connector, client, prefix = redis_env
    client.rpush(f"{prefix}session:ann@example.com", "x")
    spec = _spec(prefix, "session:{email}", RedisType.HASH, _erased("ip", Strategy.NULLIFY))
    with pytest.raises(ConnectorError) as caught:
        connector.erase(spec, Lookup(values={"email": ("ann@example.com",)}))
    assert "holds a Redis list, but the data map says hash" in caught.value.message
    assert "ann@example.com" not in caught.value.message
    assert client.lrange(f"{prefix}session:ann@example.com", 0, -1) == ["x"]


def test_the_connection_test_reports_an_unreachable_server() -> None:
    with RedisConnector("redis://127.0.0.1:1/0") as connector:
        result = connector.test_connection()
    assert not result.ok
    assert "cannot connect" in result.message


def test_the_connection_test_passes(redis_env: tuple[RedisConnector, redis.Redis, str]) -> None:
    assert redis_env[0].test_connection().ok
