"""De-identification: which columns go and how, and the check that no direct identifier survives. Pure."""

from __future__ import annotations

import datetime as dt

import pytest

from charter.connectors.base import Granularity
from charter.core.errors import CharterError
from charter.operations import Treatment, find_direct_identifier, parse_generalisation, plan_columns
from charter.operations.deidentify import transform
from tests.retention.test_rules import estate_map


def _collection(key: str):  # type: ignore[no-untyped-def]
    dataset, _, name = key.partition(".")
    found = estate_map().dataset(dataset)
    assert found is not None
    return found.collection(name)


def test_identities_go_keys_are_pseudonymised_personal_fields_generalised_or_dropped() -> None:
    accounts = _collection("accounts_db.accounts")
    columns = {c.name: c for c in plan_columns(accounts, dict([parse_generalisation("name=keep_chars:1")]))}
    assert {n: c.treatment for n, c in columns.items()} == {
        "id": Treatment.PSEUDONYMISE, "email": Treatment.DROP, "phone": Treatment.DROP,
        "name": Treatment.GENERALISE, "created_at": Treatment.KEEP, "closed_at": Treatment.KEEP}
    assert columns["name"].description == "generalised (keep 1 chars)"
    visits = {c.name: c.treatment for c in plan_columns(_collection("logs_db.visits"), {})}
    assert visits == {"id": Treatment.PSEUDONYMISE, "account_id": Treatment.PSEUDONYMISE, "ip": Treatment.DROP,
                      "created_at": Treatment.KEEP}
    row = {"id": 7, "email": "a@b.example", "phone": None, "name": "Ann", "created_at": dt.date(2024, 5, 6),
           "closed_at": None}
    out = transform(row, columns.values(), lambda column, value: f"psd:{column}{value}")
    assert out == {"id": "psd:id7", "name": "A**", "created_at": dt.date(2024, 5, 6), "closed_at": None}


def test_bad_generalisations_are_refused_naming_the_option() -> None:
    assert parse_generalisation("created_at=month")[1].to is Granularity.MONTH
    for text in ("created_at", "created_at=decade", "total=round_to:x"):
        with pytest.raises(CharterError) as err:
            parse_generalisation(text)
        assert err.value.field == "generalise"
    with pytest.raises(CharterError, match="is an identity"):
        plan_columns(_collection("accounts_db.accounts"), dict([parse_generalisation("email=keep_chars:2")]))
    with pytest.raises(CharterError, match="no field 'nope'"):
        plan_columns(_collection("accounts_db.accounts"), dict([parse_generalisation("nope=year")]))


@pytest.mark.parametrize(("value", "kind"), [
    ("contact me at wang.wei@example.cn please", "an email address"),
    ("13800138000", "a phone number"),
    ("+852 5123 4567", "a phone number"),
    ("11010519491231002X", "a mainland resident ID number"),
    ("6222 0212 3456 7894", "a bank card number"),
])
def test_a_direct_identifier_in_any_column_is_found(value: str, kind: str) -> None:
    assert find_direct_identifier({"note": "ok", "free_text": value}, []) == ("free_text", kind)


def test_the_rows_own_identities_and_clean_values() -> None:
    assert find_direct_identifier({"name": "ANN@EXAMPLE.COM"}, ["ann@example.com"]) == (
        "name", "one of the row's own identities")
    assert find_direct_identifier({"city": "Shanghai", "total": 1999, "day": "2024-05-01", "n": None}, ["x@y.z"]) \
        is None
    assert find_direct_identifier({"id": "psd:13800138000abcdef"}, [], skip=["id"]) is None
