"""The plan is a pure function of the data map and the person's identity kinds."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from charter.connectors.base import Lookup, Strategy
from charter.core.errors import CharterError
from charter.datamap.graph import build_graph
from charter.datamap.plan import Action, Plan, Planner, TaskSpec, plan_request, resolve_lookup
from charter.datamap.schema import DataMap
from tests.datamap.maps import shop


def _keys(tasks: tuple[TaskSpec, ...]) -> list[str]:
    return [t.key for t in tasks]


def test_access_reads_parents_before_the_collections_found_from_them() -> None:
    plan = plan_request(shop(), ["email", "phone"])
    assert _keys(plan.access) == ["shop_db.customers", "helpdesk.tickets", "archive.contracts", "shop_db.addresses",
                                  "shop_db.orders", "sessions.session", "shop_db.order_items"]
    assert [t.step for t in plan.access] == list(range(7))
    assert all(t.action is Action.ACCESS for t in plan.access)
    orders = plan.access[4]
    assert orders.depends_on == ("shop_db.customers",)
    assert [(s.field, s.collection, s.source_field) for s in orders.lookups] == [
        ("customer_id", "shop_db.customers", "id")]
    customers = plan.access[0]
    assert [(s.field, s.identity) for s in customers.lookups] == [("email", "email"), ("phone", "phone")]
    assert plan.unreachable == ()


def test_erasure_goes_children_first_and_skips_nothing_it_must_touch() -> None:
    plan = plan_request(shop(), ["email", "phone"])
    order = _keys(plan.erasure)
    assert order.index("shop_db.order_items") < order.index("shop_db.orders") < order.index("shop_db.customers")
    assert order.index("sessions.session") < order.index("shop_db.customers")
    assert order.index("shop_db.customers") < order.index("shop_db.addresses")
    assert set(order) == set(_keys(plan.access))
    assert all(t.action is Action.ERASURE for t in plan.erasure)


def test_the_task_carries_the_per_field_strategies_and_the_connection() -> None:
    plan = plan_request(shop(), ["email"])
    customers = next(t for t in plan.erasure if t.key == "shop_db.customers")
    strategies = {f.name: f.erasure.strategy if f.erasure else None for f in customers.collection.fields}
    assert strategies == {"id": None, "email": Strategy.HASH, "phone": Strategy.NULLIFY, "name": Strategy.MASK,
                          "birth_date": Strategy.GENERALISE, "address_id": None}
    assert customers.connection.secret == "SHOP_DB"
    assert customers.connection.hash_key_secret == "SHOP_HASH_KEY"
    orders = next(t for t in plan.erasure if t.key == "shop_db.orders")
    assert orders.collection.field("note").erasure is not None  # the collection's default
    assert [h.rule for h in orders.collection.held] == ["tax_records"]
    items = next(t for t in plan.erasure if t.key == "shop_db.order_items")
    assert items.collection.deletes_rows


def test_keys_needed_are_the_fields_later_lookups_read() -> None:
    plan = plan_request(shop(), ["email"])
    assert plan.keys_needed == {"shop_db.customers": ("address_id", "id"), "shop_db.orders": ("id",)}


def test_a_person_known_only_by_phone_reaches_only_what_a_phone_leads_to() -> None:
    plan = plan_request(shop(), ["phone"])
    assert "helpdesk.tickets" not in _keys(plan.access)
    assert plan.unreachable == ("helpdesk.tickets",)


def test_linked_identities_widen_the_plan() -> None:
    """LAN-ACCOUNT-LINK: a request by email also covers the phone linked to the same person."""
    by_email = plan_request(shop(), ["email"])
    linked = plan_request(shop(), ["email", "phone"])
    assert "archive.contracts" not in _keys(by_email.access)
    assert "archive.contracts" in _keys(linked.access)
    customers = linked.access[0]
    lookup = resolve_lookup(customers, {"email": ["a@x.example"], "phone": ["+8613800138000"]}, {})
    assert lookup.values == {"email": ("a@x.example",), "phone": ("+8613800138000",)}


def test_an_unknown_identity_type_is_refused_with_the_known_ones() -> None:
    with pytest.raises(CharterError) as caught:
        plan_request(shop(), ["email", "wechat"])
    assert caught.value.message == "unknown identity type 'wechat'"
    assert caught.value.fix == "Use one of: email, phone, account_id, visitor_id."


def test_resolve_lookup_reads_identities_and_earlier_rows() -> None:
    plan = plan_request(shop(), ["email"])
    orders = next(t for t in plan.access if t.key == "shop_db.orders")
    rows = {"shop_db.customers": [{"id": 7, "address_id": 1}, {"id": 9}, {"id": 7}, {"id": None}]}
    assert resolve_lookup(orders, {}, rows) == Lookup(values={"customer_id": (7, 9)})
    assert resolve_lookup(orders, {}, {}).is_empty


def test_a_plan_and_its_tasks_survive_a_json_round_trip() -> None:
    plan = plan_request(shop(), ["email", "phone"])
    again = Plan.model_validate_json(plan.model_dump_json())
    assert again == plan
    assert TaskSpec.model_validate(plan.erasure[0].model_dump(mode="json")) == plan.erasure[0]


def test_rectification_targets_every_field_holding_the_category() -> None:
    plan = plan_request(shop(), ["email", "phone"])
    targets = [(task.key, name) for task, name in plan.holding("contact.phone")]
    assert targets == [("shop_db.customers", "phone"), ("archive.contracts", "phone")]


def test_a_cycle_of_references_still_gives_every_task_an_earlier_source() -> None:
    dm = _map([{"identity": True, "refs": []}, {"identity": False, "refs": [(0, "from"), (2, "to")]},
               {"identity": False, "refs": [(1, "to")]}])
    plan = Planner(dm).plan(["email"])
    assert _keys(plan.access) == ["db.c0", "db.c1", "db.c2"]
    _assert_sources_come_first(plan)


# --- properties over random maps ----------------------------------------------------------------------------------


def _map(collections: list[dict[str, Any]]) -> DataMap:
    """One SQLite dataset; collection i may reference any other collection j (`from` or `to`)."""
    entries = []
    for i, spec in enumerate(collections):
        fields: list[dict[str, Any]] = [{"name": "id", "type": "integer", "primary_key": True}]
        if spec["identity"]:
            fields.append({"name": "email", "type": "string", "identity": "email", "categories": ["contact.email"],
                           "erasure": "nullify"})
        for n, (j, direction) in enumerate(spec["refs"]):
            fields.append({"name": f"ref{n}", "type": "integer",
                           "references": {"field": f"c{j}.id", "direction": direction}})
        fields.append({"name": "note", "type": "string", "categories": ["contact.email"], "erasure": "nullify"})
        entries.append({"name": f"c{i}", "fields": fields})
    return DataMap.model_validate({
        "schema": "charter.datamap/v1", "version": "1",
        "retention_rules": [{"id": "keep_while", "while": "account_active", "reason": {"zh": "期间", "en": "While"}}],
        "systems": [{"id": "sys", "name": "System", "datasets": [{
            "id": "db", "kind": "sqlite", "connection": {"secret": "DB"}, "region": "CN", "retention": "keep_while",
            "collections": entries}]}]})


@st.composite
def _acyclic_maps(draw: st.DrawFn) -> DataMap:
    """Collection i references only collections before it, so the references (child → parent) form a DAG."""
    count = draw(st.integers(min_value=1, max_value=8))
    collections = []
    for i in range(count):
        refs = draw(st.lists(st.tuples(st.integers(0, max(i - 1, 0)), st.sampled_from(["from", "to"])),
                             max_size=2 if i else 0, unique_by=lambda r: r[0]))
        collections.append({"identity": draw(st.booleans()) or i == 0, "refs": refs})
    return _map(collections)


@st.composite
def _any_maps(draw: st.DrawFn) -> DataMap:
    count = draw(st.integers(min_value=1, max_value=7))
    collections = []
    for i in range(count):
        others = [j for j in range(count) if j != i]
        refs = draw(st.lists(st.tuples(st.sampled_from(others), st.sampled_from(["from", "to"])),
                             max_size=3, unique_by=lambda r: r[0])) if others else []
        collections.append({"identity": draw(st.booleans()), "refs": refs})
    return _map(collections)


def _assert_sources_come_first(plan: Plan) -> None:
    seen: set[str] = set()
    for task in plan.access:
        assert task.lookups, task.key
        assert set(task.depends_on) <= seen, task.key
        seen.add(task.key)


@settings(max_examples=200, deadline=None)
@given(_acyclic_maps())
def test_erasure_order_respects_every_reference(dm: DataMap) -> None:
    plan = plan_request(dm, ["email"])
    position = {key: i for i, key in enumerate(_keys(plan.erasure))}
    for edge in build_graph(dm).edges:
        if edge.holder in position and edge.parent in position:
            assert position[edge.holder] < position[edge.parent], edge


@settings(max_examples=200, deadline=None)
@given(_any_maps())
def test_every_reachable_collection_is_read_once_after_its_sources(dm: DataMap) -> None:
    plan = plan_request(dm, ["email"])
    reachable = build_graph(dm).distances(["email"])
    assert sorted(_keys(plan.access)) == sorted(reachable)
    assert sorted([*_keys(plan.access), *plan.unreachable]) == sorted(build_graph(dm).nodes)
    assert sorted(_keys(plan.erasure)) == sorted(_keys(plan.access))
    _assert_sources_come_first(plan)


@settings(max_examples=100, deadline=None)
@given(_any_maps())
def test_planning_is_deterministic(dm: DataMap) -> None:
    assert plan_request(dm, ["email"]) == Planner(dm).plan(["email", "email"])
