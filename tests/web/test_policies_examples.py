"""The two shipped policies publish; broken variants of them are refused, located, explained, and store nothing."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from charter.policy.models import PolicyVersionRecord
from tests.conftest import EXAMPLES
from tests.factories import make_tenant

Doc = dict[str, Any]


def _example(name: str) -> Doc:
    doc: Doc = yaml.safe_load((EXAMPLES / name / "policy.yaml").read_text(encoding="utf-8"))
    return doc


def _purpose(doc: Doc, pid: str) -> Doc:
    return next(p for p in doc["purposes"] if p["id"] == pid)


def _unknown_category(d: Doc) -> str:
    d["purposes"][0]["categories"].append("basic.shoe_size")
    return "purposes[0].categories"


def _duplicate_purpose(d: Doc) -> str:
    d["purposes"][1]["id"] = d["purposes"][0]["id"]
    return "purposes[1].id"


def _recipient_without_contact(d: Doc) -> str:
    del d["recipients"][0]["contact"]
    return "recipients[0]"


def _sensitive_under_general_consent(d: Doc) -> str:
    _purpose(d, "personalisation")["categories"].append("identity.password")
    return "purposes["


def _region_without_cross_border_basis(d: Doc) -> str:
    d["cross_border"]["bases"] = []
    d["recipients"][0]["region"] = "US"
    return "recipients[0].region"


def _missing_english(d: Doc) -> str:
    d["purposes"][0]["label"]["en"] = " "
    return "purposes[0].label"


def _unknown_promise(d: Doc) -> str:
    d["clauses"][0]["promises"].append("LUB-NOPE")
    return "clauses[0].promises"


def _consent_basis_without_consent(d: Doc) -> str:
    _purpose(d, "marketing_email")["consent"] = "none"
    return "purposes["


def _not_a_legal_basis(d: Doc) -> str:
    d["purposes"][0]["legal_basis"] = "legitimate_interests"
    return "purposes[0].legal_basis"


def _bad_category_id(d: Doc) -> str:
    d["categories"][0]["id"] = "Basic Name"
    return "categories[0].id"


def _unknown_refusal_ground(d: Doc) -> str:
    d["refusal_grounds"].append("we_would_rather_not")
    return "refusal_grounds"


def _unknown_field(d: Doc) -> str:
    d["controller"]["twitter"] = "@lubpur"
    return "controller.twitter"


def _promise_not_placed(d: Doc) -> str:
    for clause in d["clauses"]:
        clause["promises"] = [p for p in clause.get("promises", []) if p != "LUB-CONTACT"]
    return ""


MISTAKES: list[Callable[[Doc], str]] = [
    _unknown_category, _duplicate_purpose, _recipient_without_contact, _sensitive_under_general_consent,
    _region_without_cross_border_basis, _missing_english, _unknown_promise, _consent_basis_without_consent,
    _not_a_legal_basis, _bad_category_id, _unknown_refusal_ground, _unknown_field, _promise_not_placed,
]


def _count(sessions: sessionmaker[Session], cid: str) -> int:
    with sessions() as s:
        return s.execute(select(func.count()).select_from(PolicyVersionRecord)
                         .where(PolicyVersionRecord.controller_id == cid)).scalar_one()


@pytest.mark.parametrize("name", ["lubpur", "landups"])
def test_the_shipped_policies_publish(client: TestClient, sessions: sessionmaker[Session], name: str) -> None:
    tenant = make_tenant(sessions)
    doc = _example(name)
    doc["controller"]["id"] = tenant.controller_id
    r = client.post("/v1/policies", content=yaml.safe_dump(doc, allow_unicode=True).encode(),
                    headers={**tenant.headers, "Content-Type": "application/yaml"})
    assert r.status_code == 201, r.text
    promises = client.get(f"/v1/policies/{doc['version']}/promises", headers=tenant.headers).json()
    assert len(promises) == {"lubpur": 29, "landups": 20}[name]
    assert all(p["clauses"] for p in promises)


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda f: f.__name__.strip("_"))
def test_a_broken_lubpur_policy_is_refused_with_place_and_fix(
        client: TestClient, sessions: sessionmaker[Session], mistake: Callable[[Doc], str]) -> None:
    tenant = make_tenant(sessions)
    doc = copy.deepcopy(_example("lubpur"))
    doc["controller"]["id"] = tenant.controller_id
    where = mistake(doc)
    r = client.post("/v1/policies", content=yaml.safe_dump(doc, allow_unicode=True).encode(),
                    headers={**tenant.headers, "Content-Type": "application/yaml"})
    assert r.status_code == 400, r.text
    problems = r.json()["error"]["problems"]
    assert any(where in p["path"] for p in problems), problems
    assert all(p["fix"] for p in problems)
    assert all(p["line"] for p in problems if p["path"])
    assert _count(sessions, tenant.controller_id) == 0


def test_a_landups_policy_without_traditional_chinese_is_refused(
        client: TestClient, sessions: sessionmaker[Session]) -> None:
    tenant = make_tenant(sessions)
    doc = _example("landups")
    doc["controller"]["id"] = tenant.controller_id
    del doc["purposes"][0]["label"]["zh_tw"]
    r = client.post("/v1/policies", content=yaml.safe_dump(doc, allow_unicode=True).encode(),
                    headers={**tenant.headers, "Content-Type": "application/yaml"})
    assert r.status_code == 400
    assert any("purposes[0].label" in p["path"] for p in r.json()["error"]["problems"])
    assert _count(sessions, tenant.controller_id) == 0
