"""Importing Fides' own PostgreSQL sample, then running a planned access and erasure on the sample's data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import create_engine, text

from charter.connectors.base import StoreKind
from charter.core.secrets import Secrets
from charter.datamap.check import check_datamap
from charter.datamap.connections import ConnectorPool
from charter.datamap.fides import FidesImportError, import_fides
from charter.datamap.plan import Planner
from charter.datamap.schema import DataMap
from charter.policy.loader import load_policy_file
from tests.connectors.shop_tables import run_access, run_erasure
from tests.datamap.fides_paths import DATASET, SQL
from tests.datamap.maps import load
from tests.services import fresh_postgres_database, require_file

EXAMPLE = Path(__file__).parents[2] / "examples" / "fides-sample"
KEY = "postgres_example_test_dataset"
CUSTOMER_1 = {"email": ["customer-1@example.com"]}


@pytest.fixture(scope="module")
def sample_text() -> str:
    require_file("the Fides sample", DATASET)
    return DATASET.read_text(encoding="utf-8")


def _imported(sample_text: str) -> DataMap:
    return DataMap.model_validate(import_fides(sample_text, region="CN", controller="fides-sample").document)


def test_the_eleven_collections_are_imported_with_identities_and_references(sample_text: str) -> None:
    datamap = _imported(sample_text)
    (_system, dataset), = datamap.datasets()
    assert [c.name for c in dataset.collections] == [
        "address", "customer", "employee", "login", "orders", "order_item", "payment_card", "product", "report",
        "service_request", "visit"]
    customer = dataset.collection("customer")
    assert customer is not None
    email = customer.field("email")
    assert email is not None
    assert (email.identity, email.categories) == ("email", ["user.contact.email"])
    address_id = customer.field("address_id")
    assert address_id is not None
    assert [(r.field, r.direction) for r in address_id.references] == [("address.id", "to")]
    employee = dataset.collection("employee")
    assert employee is not None
    name = employee.field("name")
    assert name is not None
    assert name.erasure is not None
    assert (name.erasure.strategy, name.erasure.value) == ("mask", "testing")


def test_the_report_says_what_was_not_carried_over(sample_text: str) -> None:
    result = import_fides(sample_text, region="CN")
    report = [str(item) for item in result.report]
    assert any("format preservation is not supported" in r for r in report)
    assert any("`visit` declares no primary key" in r for r in report)
    assert any("`system.operations` is not personal data (25 field(s))" in r for r in report)
    assert any("primary key `id` holds user.unique_id" in r for r in report)
    assert result.categories == ("user.contact.address.city", "user.contact.address.street",
                                 "user.contact.address.state", "user.contact.address.postal_code",
                                 "user.contact.email", "user.unique_id", "user.name", "user.sensor",
                                 "user.financial.bank_account", "user.financial", "user")
    unplaced = import_fides(sample_text).report
    assert any("`region: ZZ` is a placeholder" in str(item) for item in unplaced)


def test_the_import_checks_clean_against_the_benchmark_policy(sample_text: str) -> None:
    policy = load_policy_file(EXAMPLE / "policy.yaml").policy
    loaded = load(import_fides(sample_text, region="CN", controller="fides-sample").to_yaml("x.yml"))
    assert check_datamap(loaded, policy) == []
    assert set(import_fides(sample_text).categories) <= {c.id for c in policy.categories}


def test_the_committed_example_is_what_the_importer_writes(sample_text: str) -> None:
    fresh = import_fides(sample_text, region="CN", controller="fides-sample").to_yaml(DATASET.name)
    assert (EXAMPLE / "datamap.yaml").read_text(encoding="utf-8") == fresh, (
        "regenerate it with the command in examples/fides-sample/policy.yaml")


def test_features_without_an_equivalent_are_reported() -> None:
    fides = """
dataset:
  - fides_key: Mongo Things
    fides_meta: {namespace: {schema: app}, after: [x]}
    collections:
      - name: people
        fides_meta: {after: [other.thing]}
        fields:
          - name: _id
            fides_meta: {primary_key: true}
          - name: wechat
            data_categories: [user.contact]
            fides_meta: {identity: wechat_id}
          - name: profile
            fields: [{name: nested}]
          - name: parent
            fides_meta: {references: [{dataset: Mongo Things, field: people._id}]}
          - name: tags
            data_categories: [user]
            fides_meta: {data_type: "string[]", masking_strategy_override: {strategy: random_string_rewrite}}
"""
    result = import_fides(fides, region="HK", kind=StoreKind.MYSQL)
    report = {item.path: item.what for item in result.report}
    assert "after" in report["dataset[0].collections[0].fides_meta.after"]
    assert "wechat_id" in report["dataset[0].collections[0].fields[1].fides_meta.identity"]
    assert "nested" in report["dataset[0].collections[0].fields[2].fields"]
    assert "without `direction`" in report["dataset[0].collections[0].fields[3].fides_meta.references[0]"]
    assert "random_string_rewrite" in report["dataset[0].collections[0].fields[4].fides_meta.masking_strategy_override"]
    dataset = result.document["systems"][0]["datasets"][0]
    assert (dataset["id"], dataset["kind"], dataset["region"]) == ("mongo_things", "mysql", "HK")
    assert dataset["collections"][0]["db_schema"] == "app"
    assert "not read" in report["dataset[0].fides_meta.after"]
    tags = dataset["collections"][0]["fields"][4]
    assert tags["erasure"] == "nullify"
    assert "type" not in tags


@pytest.mark.parametrize("text", ["- just a list\n", "dataset: {name: x}\n", "dataset: [unclosed\n"])
def test_a_file_that_is_not_a_fides_dataset_is_refused(text: str) -> None:
    with pytest.raises(FidesImportError) as caught:
        import_fides(text)
    assert caught.value.fix


def test_only_sql_stores_can_be_imported(sample_text: str) -> None:
    with pytest.raises(FidesImportError, match="cannot be imported as a redis store"):
        import_fides(sample_text, kind=StoreKind.REDIS)


# --- end to end on Fides' own data -------------------------------------------------------------------------------


@pytest.fixture
def sample_database() -> Iterator[str]:
    with fresh_postgres_database() as url:
        with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
            conn.execute(SQL.read_text(encoding="utf-8"))  # type: ignore[arg-type]
        yield url


def _rows(url: str, sql: str) -> list[dict[str, Any]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [dict(r) for r in conn.execute(text(sql)).mappings()]
    finally:
        engine.dispose()


def test_a_planned_access_and_erasure_run_on_the_sample(sample_text: str, sample_database: str) -> None:
    plan = Planner(_imported(sample_text)).plan(["email"])
    secrets = Secrets.from_environment({f"CHARTER_SECRET_{KEY.upper()}": sample_database})
    with ConnectorPool(secrets) as pool:
        connectors = {KEY: pool.get(plan.access[0].connection)}
        found = {key.split(".")[1]: rows for key, rows in run_access(plan, connectors, CUSTOMER_1).items()}
        assert {name: len(rows) for name, rows in found.items()} == {
            "customer": 1, "employee": 0, "report": 0, "service_request": 1, "visit": 1, "login": 6, "orders": 3,
            "payment_card": 1, "address": 2, "order_item": 4, "product": 2}
        assert found["customer"][0]["name"] == "John Customer"
        assert sorted(r["id"] for r in found["address"]) == [1, 2]
        assert sorted(r["id"] for r in found["product"]) == [1, 2]

        records = run_erasure(plan, connectors, CUSTOMER_1)
    changed = {key.split(".")[1]: (r.rows_changed, r.rows_deleted) for key, r in records.items()}
    assert changed == {"payment_card": (1, 0), "orders": (3, 0), "login": (6, 0), "visit": (0, 1),
                       "service_request": (1, 0), "report": (0, 0), "employee": (0, 0), "customer": (1, 0),
                       "address": (2, 0)}
    customers = {r["id"]: (r["email"], r["name"]) for r in _rows(sample_database, "SELECT * FROM customer")}
    assert customers == {1: (None, None), 2: ("customer-2@example.com", "Jill Customer"),
                         3: ("jane@example.com", "Jane Customer")}
    assert _rows(sample_database, "SELECT count(*) AS n FROM login WHERE customer_id IS NULL") == [{"n": 6}]
    assert _rows(sample_database, "SELECT email FROM visit") == [{"email": "customer-2@example.com"}]
    cards = _rows(sample_database, "SELECT id, ccn, customer_id FROM payment_card ORDER BY id")
    assert cards[0] == {"id": "pay_aaa-aaa", "ccn": None, "customer_id": None}
    assert cards[1]["ccn"] == 987654321
    service = _rows(sample_database, "SELECT id, alt_email, employee_id FROM service_request WHERE id = 'ser_aaa-aaa'")
    assert service == [{"id": "ser_aaa-aaa", "alt_email": None, "employee_id": None}]
    assert _rows(sample_database, "SELECT street FROM address WHERE id IN (3, 4) ORDER BY id") == [
        {"street": "Example Ave"}, {"street": "Example Place"}]
