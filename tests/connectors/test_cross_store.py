"""One plan across two stores: the shop's tables in MariaDB and its sessions in Redis, keyed by the customer id
the SQL side finds."""

from __future__ import annotations

from pathlib import Path

import redis

from charter.connectors.redis import RedisConnector
from charter.connectors.sql import SqlConnector
from charter.datamap.plan import plan_request
from tests.connectors.shop_tables import ANN, HASH_KEY, customers, run_access, run_erasure, shop_database, table_rows
from tests.datamap.maps import edit, load, shop_text
from tests.services import fresh_redis_prefix


def test_an_erasure_follows_the_customer_id_from_mariadb_into_redis(tmp_path: Path) -> None:
    with shop_database("mariadb", tmp_path) as url, fresh_redis_prefix() as (redis_url, prefix):
        datamap = load(edit(shop_text(), ('key: "session:{customer_id}"', f'key: "{prefix}session:{{customer_id}}"')))
        client = redis.Redis.from_url(redis_url, decode_responses=True)
        client.hset(f"{prefix}session:1", mapping={"ip": "10.0.0.1", "city": "Shanghai"})
        client.hset(f"{prefix}session:2", mapping={"ip": "10.0.0.2", "city": "Beijing"})
        plan = plan_request(datamap.document, list(ANN))
        with SqlConnector(url, hash_key=HASH_KEY) as sql, RedisConnector(redis_url) as cache:
            connectors = {"shop_db": sql, "sessions": cache}
            found = run_access(plan, connectors, ANN)
            assert found["sessions.session"] == ({"customer_id": 1, "ip": "10.0.0.1", "city": "Shanghai"},)
            records = run_erasure(plan, connectors, ANN)
        assert records["sessions.session"].rows_changed == 1
        assert client.hgetall(f"{prefix}session:1") == {"city": "-"}
        assert client.hgetall(f"{prefix}session:2") == {"ip": "10.0.0.2", "city": "Beijing"}
        assert {r["id"]: r["phone"] for r in table_rows(url, customers)} == {1: None, 2: "+8613900139000"}
        client.close()
