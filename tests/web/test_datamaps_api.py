"""The data map endpoints through HTTP, on a real database, with tenant isolation checked for each."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from charter.audit.services import AuditLog
from charter.datamap.models import DataMapVersionRecord
from tests.datamap.maps import edit, line_of, shop_policy_text, shop_text
from tests.factories import Tenant, make_tenant

YAML = {"Content-Type": "application/yaml"}


def _tenant_with_policy(client: TestClient, sessions: sessionmaker[Session]) -> Tenant:
    tenant = make_tenant(sessions)
    r = client.post("/v1/policies", content=shop_policy_text(tenant.controller_id).encode(),
                    headers={**tenant.headers, **YAML})
    assert r.status_code == 201, r.text
    return tenant


def _publish(client: TestClient, tenant: Tenant, text: str) -> tuple[int, dict[str, object]]:
    r = client.post("/v1/datamaps", content=text.encode(), headers={**tenant.headers, **YAML})
    return r.status_code, r.json()


def _count(sessions: sessionmaker[Session], cid: str) -> int:
    with sessions() as s:
        return s.execute(select(func.count()).select_from(DataMapVersionRecord)
                         .where(DataMapVersionRecord.controller_id == cid)).scalar_one()


def test_publish_list_get(client: TestClient, sessions: sessionmaker[Session]) -> None:
    t = _tenant_with_policy(client, sessions)
    status, body = _publish(client, t, shop_text(t.controller_id))
    assert status == 201
    assert (body["created"], body["policy_version"]) == (True, "1.0")
    again_status, again = _publish(client, t, shop_text(t.controller_id))
    assert (again_status, again["created"], again["content_hash"]) == (200, False, body["content_hash"])
    versions = client.get("/v1/datamaps", headers=t.headers).json()
    assert [v["version"] for v in versions] == ["1"]
    doc = client.get("/v1/datamaps/1", headers=t.headers).json()
    assert doc["document"]["systems"][0]["datasets"][0]["connection"] == {"secret": "SHOP_DB"}
    with sessions() as s:
        assert AuditLog(s).verify(t.controller_id).ok


def test_a_json_body_is_accepted(client: TestClient, sessions: sessionmaker[Session]) -> None:
    import yaml  # noqa: PLC0415

    t = _tenant_with_policy(client, sessions)
    r = client.post("/v1/datamaps", json=yaml.safe_load(shop_text(t.controller_id)), headers=t.headers)
    assert r.status_code == 201, r.text


def test_an_invalid_map_is_refused_with_located_problems(client: TestClient,
                                                          sessions: sessionmaker[Session]) -> None:
    t = _tenant_with_policy(client, sessions)
    text = edit(shop_text(t.controller_id), ("references: customers.id", "references: customer.id"))
    status, body = _publish(client, t, text)
    assert status == 400
    error = body["error"]
    assert error["code"] == "datamap_invalid"  # type: ignore[index]
    problem = next(p for p in error["problems"] if p["path"].endswith("references[0].field"))  # type: ignore[index]
    assert problem["line"] == line_of(text, "references: customer.id")
    assert problem["fix"].startswith("did you mean `customers.id`?")
    assert _count(sessions, t.controller_id) == 0


def test_a_map_without_a_policy_in_force_is_refused(client: TestClient, sessions: sessionmaker[Session]) -> None:
    t = make_tenant(sessions)
    status, body = _publish(client, t, shop_text(t.controller_id))
    assert status == 400
    assert "no policy in force" in body["error"]["message"]  # type: ignore[index]


def test_another_tenants_maps_are_not_found(client: TestClient, sessions: sessionmaker[Session]) -> None:
    a, b = _tenant_with_policy(client, sessions), _tenant_with_policy(client, sessions)
    assert _publish(client, a, shop_text(a.controller_id))[0] == 201
    assert client.get("/v1/datamaps", headers=b.headers).json() == []
    r = client.get("/v1/datamaps/1", headers=b.headers)
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
    status, body = _publish(client, b, shop_text(a.controller_id))
    assert status == 400
    assert body["error"]["field"] == "controller"  # type: ignore[index]
    assert _count(sessions, b.controller_id) == 0


def test_keys_are_required_and_publishable_keys_refused(client: TestClient, sessions: sessionmaker[Session]) -> None:
    t = _tenant_with_policy(client, sessions)
    assert client.get("/v1/datamaps").status_code == 401
    r = client.get("/v1/datamaps", headers={"Authorization": f"Bearer {t.publishable}"})
    assert r.status_code == 403
    r = client.post("/v1/datamaps", content=b"x", headers={**t.headers, "Content-Type": "application/xml"})
    assert r.status_code == 400


def test_a_store_outside_the_policys_region_is_refused(client: TestClient, sessions: sessionmaker[Session]) -> None:
    """LAN-STORAGE-HK: with a Hong Kong policy, a dataset declared in the mainland cannot be published."""
    t = make_tenant(sessions)
    r = client.post("/v1/policies", content=shop_policy_text(t.controller_id, storage="HK").encode(),
                    headers={**t.headers, **YAML})
    assert r.status_code == 201, r.text
    status, body = _publish(client, t, shop_text(t.controller_id))
    assert status == 400
    problems = body["error"]["problems"]  # type: ignore[index]
    assert {p["path"] for p in problems} == {"systems[0].datasets[0].region", "systems[0].datasets[1].region",
                                             "systems[1].datasets[0].region", "systems[1].datasets[1].region"}
    assert all("outside the policy's storage regions (HK)" in p["message"] for p in problems)
    hk = shop_text(t.controller_id).replace("region: CN", "region: HK")
    assert _publish(client, t, hk)[0] == 201
