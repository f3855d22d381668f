from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from charter import jurisdictions
from charter.jurisdictions import Deadline, Jurisdiction, RequestKind, due_date, rule_pack

from .strategies import kinds, received_dates

jurisdiction_sets = st.sets(st.sampled_from(list(Jurisdiction)), min_size=1)


def test_cn_wins_over_hk_and_eu() -> None:
    result = due_date(
        date(2025, 9, 30), RequestKind.ERASURE, [Jurisdiction.EU, Jurisdiction.HK, Jurisdiction.CN]
    )
    assert result.jurisdiction is Jurisdiction.CN
    assert result.due == date(2025, 10, 28)


def test_eu_wins_over_hk() -> None:
    result = due_date(date(2025, 1, 31), RequestKind.ACCESS, [Jurisdiction.HK, Jurisdiction.EU])
    assert result == rule_pack(Jurisdiction.EU).deadline(date(2025, 1, 31), RequestKind.ACCESS)
    assert result.due == date(2025, 2, 28)


def test_single_jurisdiction() -> None:
    assert due_date(date(2025, 1, 1), RequestKind.ACCESS, [Jurisdiction.HK]).due == date(2025, 2, 10)


def test_codes_may_be_strings_in_any_case() -> None:
    assert due_date(date(2025, 1, 1), "access", ["hk", "HK"]).due == date(2025, 2, 10)


def test_tie_goes_to_the_first_jurisdiction_in_canonical_order(monkeypatch: pytest.MonkeyPatch) -> None:
    received = date(2025, 3, 3)
    cn_due = rule_pack(Jurisdiction.CN).deadline(received, RequestKind.ACCESS).due

    def same_day(received: date, kind: RequestKind) -> Deadline:
        return Deadline(Jurisdiction.EU, cn_due, "test rule")

    monkeypatch.setitem(jurisdictions._PACKS, Jurisdiction.EU, replace(rule_pack("EU"), deadline=same_day))
    for order in ([Jurisdiction.EU, Jurisdiction.CN], [Jurisdiction.CN, Jurisdiction.EU]):
        assert due_date(received, RequestKind.ACCESS, order).jurisdiction is Jurisdiction.CN


def test_empty_list_is_rejected() -> None:
    with pytest.raises(ValueError, match="CN, HK, EU"):
        due_date(date(2025, 1, 1), RequestKind.ACCESS, [])


def test_unknown_jurisdiction_is_named() -> None:
    with pytest.raises(ValueError, match=r"'US'.*CN, HK, EU"):
        due_date(date(2025, 1, 1), RequestKind.ACCESS, ["CN", "US"])


def test_unknown_kind_is_named() -> None:
    with pytest.raises(ValueError, match=r"'delete'.*erasure"):
        due_date(date(2025, 1, 1), "delete", ["CN"])


def test_datetime_is_refused() -> None:
    with pytest.raises(TypeError, match="local date"):
        due_date(datetime(2025, 1, 1, 12, 0), RequestKind.ACCESS, ["CN"])


def test_a_generator_is_consumed_once() -> None:
    codes = (code for code in ["EU", "HK"])
    assert due_date(date(2025, 1, 31), RequestKind.ACCESS, codes).jurisdiction is Jurisdiction.EU


@given(received_dates, kinds, jurisdiction_sets)
def test_combined_due_is_the_minimum_over_packs(
    received: date, kind: RequestKind, chosen: set[Jurisdiction]
) -> None:
    per_pack = {j: rule_pack(j).deadline(received, kind) for j in chosen}
    earliest = min(d.due for d in per_pack.values())
    result = due_date(received, kind, chosen)
    assert result.due == earliest
    assert result == per_pack[result.jurisdiction]
    first_with_earliest = next(j for j in Jurisdiction if j in chosen and per_pack[j].due == earliest)
    assert result.jurisdiction is first_with_earliest


@given(received_dates, kinds, jurisdiction_sets)
def test_combined_due_is_never_later_than_forty_days(
    received: date, kind: RequestKind, chosen: set[Jurisdiction]
) -> None:
    assert received < due_date(received, kind, chosen).due <= received + timedelta(days=40)
