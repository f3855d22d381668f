"""`charter datamap check` on broken maps: each problem names the path, the line and a fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from charter.core.yamldoc import Problem
from charter.datamap.check import check_datamap, check_file
from tests.datamap.maps import SHOP, edit, line_of, load, shop_policy, shop_policy_text, shop_text

CUSTOMERS = "systems[0].datasets[0].collections[0]"
ORDERS = "systems[0].datasets[0].collections[2]"
SESSION = "systems[0].datasets[1].collections[0]"


def _problems(text: str, storage: str = "CN") -> list[Problem]:
    return check_datamap(load(text), shop_policy(storage=storage))


def _only(text: str, storage: str = "CN") -> Problem:
    problems = _problems(text, storage)
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def test_the_shop_fixture_passes_every_check() -> None:
    assert _problems(shop_text()) == []


def test_check_file_reads_both_files(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(shop_policy_text(), encoding="utf-8")
    assert check_file(SHOP, policy) == []
    problems = check_file(SHOP, tmp_path / "absent.yaml")
    assert problems[0].message == "no such file"


def test_an_unknown_category_suggests_the_policys_closest() -> None:
    text = edit(shop_text(), ("categories: [profile.birth_date]", "categories: [profile.birthdate]"))
    problem = _only(text)
    assert problem.path == f"{CUSTOMERS}.fields[4].categories[0]"
    assert problem.line == line_of(text, "profile.birthdate")
    assert "not a data category of the policy" in problem.message
    assert problem.fix.startswith("did you mean `profile.birth_date`?")


def test_a_reference_to_no_field_is_flagged_and_its_collection_unreachable() -> None:
    text = edit(shop_text(), ("references: customers.id", "references: customer.id"))
    problems = _problems(text)
    broken = next(p for p in problems if p.path == f"{ORDERS}.fields[1].references[0].field")
    assert broken.line == line_of(text, "references: customer.id")
    assert broken.fix.startswith("did you mean `customers.id`?")
    unreachable = [p.path for p in problems if "no identity leads" in p.message]
    assert unreachable == [ORDERS, "systems[0].datasets[0].collections[3]"]


def test_a_collection_no_identity_reaches_says_how_to_connect_it() -> None:
    text = edit(shop_text(), ("                references: shop_db.customers.id\n", ""))
    problems = [p for p in _problems(text) if "no identity leads" in p.message]
    assert [p.path for p in problems] == [SESSION]
    assert problems[0].line == line_of(text, "- name: session")
    assert "identity:" in problems[0].fix
    assert "references:" in problems[0].fix


def test_a_mask_value_of_the_wrong_type() -> None:
    text = edit(shop_text(), ('erasure: {strategy: mask, value: "(erased)"}', "erasure: {strategy: mask, value: 0}"))
    problem = _only(text)
    assert problem.path == f"{CUSTOMERS}.fields[3].erasure"
    assert problem.line == line_of(text, "value: 0}")
    assert "is not a string" in problem.message
    assert problem.fix == "give a string `value:`"


def test_a_generalisation_that_does_not_fit_the_type() -> None:
    text = edit(shop_text(), ("erasure: {strategy: generalise, to: year}",
                              "erasure: {strategy: generalise, round_to: 10}"))
    problem = _only(text)
    assert problem.path == f"{CUSTOMERS}.fields[4].erasure"
    assert problem.line == line_of(text, "round_to: 10")
    assert "`round_to` generalises integer or number fields, but the field is date" in problem.message
    assert "type:" in problem.fix


def test_a_primary_key_cannot_be_nullified() -> None:
    key = "                type: integer\n                primary_key: true\n"
    text = edit(shop_text(), (f"{key}              - name: email",
                              f"{key}                erasure: nullify\n              - name: email"))
    problem = _only(text)
    assert problem.path == f"{CUSTOMERS}.fields[0].erasure"
    assert problem.line == line_of(text, "erasure: nullify")
    assert problem.message.endswith("a primary key cannot be NULL")
    assert "delete_row" in problem.fix


def test_a_not_null_column_cannot_be_nullified() -> None:
    text = edit(shop_text(), ("                categories: [contact.phone]\n                identity: phone\n"
                              "                erasure: nullify",
                              "                categories: [contact.phone]\n                identity: phone\n"
                              "                nullable: false\n                erasure: nullify"))
    problem = _only(text)
    assert problem.path == f"{CUSTOMERS}.fields[2].erasure"
    assert problem.line == line_of(text, "nullable: false") + 1
    assert "NOT NULL" in problem.message
    assert "mask" in problem.fix


def test_a_hash_needs_the_datasets_hash_key() -> None:
    text = edit(shop_text(), ("        hash_key: {secret: SHOP_HASH_KEY}\n", ""))
    problem = _only(text)
    assert problem.path == f"{CUSTOMERS}.fields[1].erasure"
    assert problem.line == line_of(text, "erasure: hash")
    assert problem.fix == "add `hash_key: {secret: NAME}` to the dataset"


def test_a_row_by_row_strategy_needs_a_primary_key() -> None:
    key = "                type: integer\n                primary_key: true\n"
    text = edit(shop_text(), (f"{key}              - name: street",
                              "                type: integer\n              - name: street"))
    problem = _only(text)
    assert problem.path == "systems[0].datasets[0].collections[1].fields[2].erasure"
    assert problem.line == line_of(text, "keep_chars: 3")
    assert "declares no primary key" in problem.message
    assert problem.fix == "mark its key column(s) with `primary_key: true`"


def test_a_personal_field_without_erasure() -> None:
    text = edit(shop_text(), ("          - name: orders\n            erasure: nullify\n", "          - name: orders\n"))
    problem = _only(text)
    assert problem.path == f"{ORDERS}.fields[3]"
    assert problem.line == line_of(text, "- name: note")
    assert "says nothing about erasure" in problem.message
    assert problem.fix.startswith("add `erasure: nullify`")


def test_keep_needs_a_known_rule() -> None:
    text = edit(shop_text(), ("erasure: {strategy: keep, rule: tax_records}\n              - name: note",
                              "erasure: {strategy: keep, rule: tax_record}\n              - name: note"))
    problem = _only(text)
    assert problem.path == f"{ORDERS}.fields[2].erasure"
    assert problem.line == line_of(text, "rule: tax_record}")
    assert problem.fix.startswith("did you mean `tax_records`?")


def test_deleting_rows_while_keeping_a_field_is_a_contradiction() -> None:
    text = edit(shop_text(), ("          - name: orders\n            erasure: nullify\n",
                              "          - name: orders\n            erasure: delete_row\n"))
    problem = _only(text)
    assert problem.path == ORDERS
    assert problem.line == line_of(text, "- name: orders")
    assert "keeps total" in problem.message
    assert "drop `keep`" in problem.fix


def test_a_dataset_outside_the_storage_regions_is_flagged() -> None:
    text = edit(shop_text(), ("        connection: {secret: SHOP_REDIS}\n        region: CN",
                              "        connection: {secret: SHOP_REDIS}\n        region: US"))
    problem = _only(text)
    assert problem.path == "systems[0].datasets[1].region"
    assert problem.line == line_of(text, "region: US")
    assert "outside the policy's storage regions (CN)" in problem.message
    assert "storage_regions" in problem.fix


def test_the_hong_kong_storage_promise_flags_a_mainland_dataset() -> None:
    problems = _problems(shop_text(), storage="HK")
    assert len(problems) == 4
    assert [p.line for p in problems] == [n for n, line in enumerate(shop_text().splitlines(), 1)
                                          if line.strip() == "region: CN"]
    assert all(p.path.endswith(".region") and "outside the policy's storage regions (HK)" in p.message
               for p in problems)


def test_a_database_url_never_goes_in_the_map() -> None:
    text = edit(shop_text(), ("connection: {secret: SHOP_DB}",
                              'connection: {secret: SHOP_DB, url: "postgresql://shop:hunter2@db/shop"}'))
    problem = _only(text)
    assert problem.path == "systems[0].datasets[0].connection.url"
    assert problem.line == line_of(text, "hunter2")
    assert "carries credentials" in problem.message
    assert "secret" in problem.fix


def test_a_missing_secret_says_where_values_go() -> None:
    text = edit(shop_text(), ("        connection: {secret: SHOP_REDIS}\n", ""))
    problem = _only(text)
    assert problem.path == "systems[0].datasets[1].connection"
    assert problem.line == line_of(text, "- id: sessions")
    assert "never in the data map" in problem.fix


def test_a_webhook_over_plain_http_to_another_host() -> None:
    text = edit(shop_text(), ("https://support.acme.example/charter", "http://support.acme.example/charter"))
    problem = _only(text)
    assert problem.path == "systems[1].datasets[0].connection.url"
    assert problem.line == line_of(text, "http://support")
    assert "unencrypted" in problem.message
    assert "https" in problem.fix
    assert _problems(edit(shop_text(), ("https://support.acme.example/charter", "http://127.0.0.1:8080/c"))) == []


def test_a_redis_key_pattern_needs_one_known_placeholder() -> None:
    text = edit(shop_text(), ('key: "session:{customer_id}"', 'key: "session:{customer}"'))
    problem = next(p for p in _problems(text) if p.path == f"{SESSION}.key")
    assert problem.line == line_of(text, 'key: "session:{customer}"')
    assert "names no field" in problem.message
    assert "add a field `customer`" in problem.fix


def test_an_option_of_another_store_is_flagged() -> None:
    text = edit(shop_text(), ("            redis_type: hash\n",
                              "            redis_type: hash\n            table: sessions\n"))
    problem = _only(text)
    assert problem.path == f"{SESSION}.table"
    assert problem.line == line_of(text, "table: sessions")
    assert problem.message.startswith("`table` is for SQL collections")
    assert problem.fix == "remove `table`"


def test_a_manual_store_needs_instructions() -> None:
    line = next(x for x in shop_text().splitlines(keepends=True) if x.startswith("        instructions:"))
    text = edit(shop_text(), (line, ""))
    problem = _only(text)
    assert problem.path == "systems[1].datasets[1]"
    assert problem.line == line_of(text, "- id: archive")
    assert "instructions" in problem.fix


def test_duplicate_names_point_at_the_first() -> None:
    text = edit(shop_text(), ("          - name: addresses\n", "          - name: orders\n"))
    problem = next(p for p in _problems(text) if "already used" in p.message)
    assert problem.path == f"{ORDERS}.name"
    assert problem.line == line_of(text, "- name: orders", 2)
    assert f"collections[1].name (line {line_of(text, '- name: orders')})" in problem.message


def test_an_unknown_retention_rule() -> None:
    text = edit(shop_text(), ("        retention: tax_records\n", "        retention: tax\n"))
    problem = _only(text)
    assert problem.path == "systems[1].datasets[1].retention"
    assert problem.line == line_of(text, "retention: tax\n".strip())
    assert "account_lifetime, tax_records" in problem.fix


def _with_key(text: str, collection: str, line: str) -> str:
    """Add `line` (say `collected_at: x`) under the collection's `- name:`."""
    head = f"          - name: {collection}\n"
    return edit(text, (head, f"{head}            {line}\n"))


def test_the_moments_retention_counts_from_must_be_dates_the_store_can_compare() -> None:
    assert _problems(_with_key(shop_text(), "customers", "collected_at: birth_date")) == []
    text = _with_key(shop_text(), "customers", "ended_at: closed")
    problem = _only(text)
    assert (problem.path, problem.line) == (f"{CUSTOMERS}.ended_at", line_of(text, "ended_at: closed"))
    assert _only(_with_key(shop_text(), "customers", "collected_at: name")).fix == (
        "give `name` `type: datetime` (or `date`)")
    text = edit(shop_text(), ("redis_type: hash\n", "redis_type: hash\n            collected_at: ip\n"),
                ("- name: ip\n                type: string\n", "- name: ip\n                type: datetime\n"))
    assert _problems(text) == []  # a hash field can be read and compared
    text = edit(text, ("collected_at: ip", "collected_at: customer_id"),
                ("- name: customer_id\n                references: shop_db",
                 "- name: customer_id\n                type: datetime\n                references: shop_db"))
    assert "only a field of a Redis hash" in _only(text).message
    assert "manual store" in _only(_with_key(shop_text(), "contracts", "collected_at: phone")).message


def test_the_controller_must_be_the_policys() -> None:
    text = edit(shop_text(), ("controller: acme", "controller: other"))
    problem = _only(text)
    assert problem.path == "controller"
    assert problem.line == line_of(text, "controller: other")
    assert problem.fix.startswith("write `controller: acme`")


@pytest.mark.parametrize("storage", ["CN", "HK"])
def test_problems_come_in_line_order(storage: str) -> None:
    text = edit(shop_text(), ("categories: [profile.birth_date]", "categories: [x.y]"),
                ("retention: tax_records\n", "retention: nope\n"))
    lines = [p.line or 0 for p in _problems(text, storage)]
    assert lines == sorted(lines)
