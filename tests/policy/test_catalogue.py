from __future__ import annotations

from charter.policy.catalogue import CATALOGUE, Family, family_of, get_promise, promises_of
from charter.policy.schema import is_promise_id
from tests.policy.policies import minimal_data, policy_from


def test_the_catalogue_holds_29_lubpur_and_20_landups_promises() -> None:
    assert len(promises_of(Family.LUB)) == 29
    assert len(promises_of("LAN")) == 20
    assert len(CATALOGUE) == 49


def test_every_promise_is_complete_and_well_named() -> None:
    for promise_id, promise in CATALOGUE.items():
        assert promise.id == promise_id
        assert is_promise_id(promise_id)
        assert promise_id.startswith(f"{promise.family}-")
        assert promise.clause and promise.promise and promise.must_do


def test_a_promise_is_found_by_id() -> None:
    delete = get_promise("LUB-DELETE")
    assert delete is not None
    assert delete.clause == "5.(3)"
    assert "tell those who received your data to delete it too" in delete.promise
    assert "acknowledgement tracked" in delete.must_do
    assert get_promise("LUB-NOPE") is None


def _with_promises(*ids: str, controller: str = "acme") -> object:
    data = minimal_data()
    data["controller"]["id"] = controller
    data["clauses"][0]["promises"] = list(ids)
    return family_of(policy_from(data))


def test_the_family_is_the_one_most_clause_promises_belong_to() -> None:
    assert _with_promises("LUB-ACCESS") is Family.LUB
    assert _with_promises("LAN-RIGHTS", "LAN-VERIFY", "LUB-ACCESS") is Family.LAN


def test_without_promises_or_on_a_tie_the_controller_id_decides() -> None:
    assert _with_promises() is None
    assert _with_promises(controller="lubpur") is Family.LUB
    assert _with_promises("LUB-ACCESS", "LAN-RIGHTS", controller="landups") is Family.LAN
    assert _with_promises("LUB-ACCESS", "LAN-RIGHTS") is None
    assert _with_promises("LUB-UNKNOWN") is None
