from __future__ import annotations

from pathlib import Path

import pytest

from charter.connectors.base import Strategy
from charter.core.yamldoc import Problem
from charter.datamap.loader import DataMapFileError, load_datamap_file
from charter.datamap.schema import Direction
from tests.datamap.maps import SHOP, edit, line_of, load, shop_text


def _problems(text: str) -> list[Problem]:
    with pytest.raises(DataMapFileError) as caught:
        load(text)
    return caught.value.problems


def _only(text: str) -> Problem:
    problems = _problems(text)
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def test_the_shop_fixture_loads_with_a_line_for_every_field() -> None:
    loaded = load_datamap_file(SHOP)
    text = shop_text()
    customers = "systems[0].datasets[0].collections[0]"
    assert loaded.document.version == "1"
    assert loaded.lines[f"{customers}.fields[1].identity"] == line_of(text, "identity: email")
    assert loaded.lines["systems[1].datasets[0].connection"] == line_of(text, "HELPDESK_KEY")


def test_shorthands_expand_to_their_full_form() -> None:
    dm = load(shop_text()).document
    customers = dm.systems[0].datasets[0].collections[0]
    email = customers.fields[1]
    assert email.erasure is not None
    assert email.erasure.strategy is Strategy.HASH
    orders = dm.systems[0].datasets[0].collections[2]
    assert [(r.field, r.direction) for r in orders.fields[1].references] == [("customers.id", Direction.FROM)]
    address = customers.fields[5]
    assert [(r.field, r.direction) for r in address.references] == [("addresses.id", Direction.TO)]


def test_a_bare_yaml_null_as_erasure_is_explained() -> None:
    text = edit(shop_text(), ("              - name: street\n                type: string\n"
                              "                categories: [contact.address]\n                erasure: nullify\n",
                              "              - name: street\n                type: string\n"
                              "                categories: [contact.address]\n                erasure: ~\n"))
    problem = _only(text)
    assert problem.path == "systems[0].datasets[0].collections[1].fields[1].erasure"
    assert problem.line == line_of(text, "erasure: ~")
    assert "erasure: nullify" in problem.fix


def test_an_unknown_strategy_suggests_the_closest() -> None:
    text = edit(shop_text(), ("                erasure: {strategy: mask, value: \"-\"}",
                              "                erasure: {strategy: masc, value: \"-\"}"))
    problem = _only(text)
    assert problem.path.endswith("collections[0].fields[2].erasure.strategy")
    assert problem.fix.startswith("did you mean `mask`?")


def test_an_unknown_identity_kind_lists_the_kinds() -> None:
    text = edit(shop_text(), ("                identity: phone\n                erasure: nullify",
                              "                identity: wechat\n                erasure: nullify"))
    problem = _only(text)
    assert problem.path == "systems[0].datasets[0].collections[0].fields[2].identity"
    assert problem.line == line_of(text, "identity: wechat")
    assert "email, phone, account_id, visitor_id" in problem.fix


def test_a_secret_name_in_the_wrong_format_says_where_its_value_comes_from() -> None:
    text = edit(shop_text(), ("connection: {secret: SHOP_DB}", "connection: {secret: shop-db}"))
    problem = _only(text)
    assert problem.path == "systems[0].datasets[0].connection.secret"
    assert "CHARTER_SECRET_<NAME>" in problem.fix


def test_an_unknown_field_lists_the_allowed_ones() -> None:
    text = edit(shop_text(), ("                primary_key: true\n              - name: email",
                              "                primary: true\n              - name: email"))
    problem = next(p for p in _problems(text) if p.path.endswith("fields[0].primary"))
    assert problem.line == line_of(text, "primary: true")
    assert problem.fix.startswith("did you mean `primary_key`?")
    assert "allowed fields are name, description, type, length, nullable, primary_key" in problem.fix


def test_an_empty_file_says_how_to_start(tmp_path: Path) -> None:
    problem = _only("# nothing yet\n")
    assert "schema: charter.datamap/v1" in problem.fix


def test_two_documents_say_one_data_map_per_file() -> None:
    problem = _only(shop_text() + "---\nschema: charter.datamap/v1\n")
    assert "one data map per file" in problem.fix
