from __future__ import annotations

from pathlib import Path

import pytest

from charter.policy.catalogue import CATALOGUE, Family, promises_of
from charter.policy.coverage import REGISTRY, CoverageStatus, coverage
from tests.policy.policies import LANDUPS, LUBPUR, load, minimal, minimal_data, policy_from

ISSUES = ("(issue 3)", "(issue 4)", "(issue 5)", "(issue 8)", "no issue scheduled yet")
ROOT = Path(__file__).parents[2]


def test_the_registry_has_exactly_one_row_per_catalogue_id() -> None:
    assert set(REGISTRY) == set(CATALOGUE)


def test_a_promise_not_enforced_yet_names_what_will_enforce_it() -> None:
    for promise_id, row in REGISTRY.items():
        if row.status is CoverageStatus.NOT_YET:
            assert any(issue in row.by for issue in ISSUES), promise_id


def test_an_enforced_or_partial_row_names_the_tests_that_prove_it_and_they_exist() -> None:
    for promise_id, row in REGISTRY.items():
        if row.status is CoverageStatus.NOT_YET:
            continue
        assert "test" in row.by, promise_id
        for word in row.by.replace(",", " ").replace(";", " ").replace(")", " ").split():
            if word.startswith("tests/"):
                assert (ROOT / word).exists(), (promise_id, word)


FUNCTIONAL = ("tests/web/", "tests/browser/", "tests/sdk/")


def test_an_enforced_row_names_a_test_driving_the_real_path() -> None:
    """PROMISES.md: kept only when a test drives it through HTTP or the SDK on a real database."""
    enforced = {pid: row for pid, row in REGISTRY.items() if row.status is CoverageStatus.ENFORCED}
    assert enforced
    for promise_id, row in enforced.items():
        assert any(path in row.by for path in FUNCTIONAL), promise_id


def test_one_placed_promise_brings_in_its_whole_family() -> None:
    assert coverage(minimal()) == []
    data = minimal_data()
    data["clauses"][1]["promises"] = ["LUB-CONTACT", "LAN-CONTACT-UNKNOWN"]
    data["controller"]["id"] = "acme"
    rows = coverage(policy_from(data))
    assert [r.id for r in rows] == [p.id for p in promises_of(Family.LUB)]
    contact = next(r for r in rows if r.id == "LUB-CONTACT")
    assert contact.clauses == ("2",)
    assert contact.status is CoverageStatus.ENFORCED
    assert "charter.policy.render" in contact.by
    assert all(r.clauses == () for r in rows if r.id != "LUB-CONTACT")


def test_ids_of_another_family_are_listed_after_the_family() -> None:
    data = minimal_data()
    data["clauses"][0]["promises"] = ["LUB-ACCESS", "LUB-DELETE"]
    data["clauses"][1]["promises"] = ["LAN-RIGHTS", "LUB-ACCESS"]
    rows = coverage(policy_from(data))
    assert [r.id for r in rows][-1] == "LAN-RIGHTS"
    assert len(rows) == 30
    assert next(r for r in rows if r.id == "LUB-ACCESS").clauses == ("1", "2")


@pytest.mark.parametrize(("path", "family", "count"), [(LUBPUR, Family.LUB, 29), (LANDUPS, Family.LAN, 20)])
def test_the_example_policies_place_every_promise_of_their_family(path: Path, family: Family, count: int) -> None:
    rows = coverage(load(path.read_text(encoding="utf-8")).policy)
    assert [r.id for r in rows] == [p.id for p in promises_of(family)]
    assert len(rows) == count
    assert all(r.clauses for r in rows), [r.id for r in rows if not r.clauses]
    assert all(r.status in CoverageStatus and r.by for r in rows)
