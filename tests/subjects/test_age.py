from __future__ import annotations

import datetime as dt

import pytest

from charter.core.errors import CharterError
from charter.subjects.age import add_years, is_minor, latest_birth_of, minor_until, parse_age_band

TODAY = dt.date(2025, 6, 1)


def test_a_birth_date_and_a_band_both_become_the_latest_possible_birth_day() -> None:
    assert latest_birth_of(birth_date="2011-06-02", today=TODAY) == dt.date(2011, 6, 2)
    assert latest_birth_of(age_band="14-17", today=TODAY) == dt.date(2011, 6, 1)
    assert latest_birth_of(age_band="18+", today=TODAY) == dt.date(2007, 6, 1)


def test_the_threshold_is_a_birthday() -> None:
    assert is_minor(dt.date(2011, 6, 2), 14, TODAY)
    assert not is_minor(dt.date(2011, 6, 1), 14, TODAY)
    assert not is_minor(None, 14, TODAY)
    assert minor_until(dt.date(2012, 2, 29), 14) == dt.date(2026, 3, 1)  # a leap-day birthday errs late
    assert add_years(dt.date(2024, 2, 29), 4) == dt.date(2028, 2, 29)


def test_a_band_straddling_the_threshold_counts_as_a_minor() -> None:
    latest = latest_birth_of(age_band="12-15", today=TODAY)
    assert is_minor(latest, 14, TODAY)


@pytest.mark.parametrize(("given", "field"), [
    ({"birth_date": "2011-02-30"}, "birth_date"), ({"birth_date": "01/06/2011"}, "birth_date"),
    ({"birth_date": "2030-01-01"}, "birth_date"), ({"birth_date": "1800-01-01"}, "birth_date"),
    ({"age_band": "teen"}, "age_band"), ({"age_band": "17-14"}, "age_band"), ({"age_band": "200+"}, "age_band"),
    ({"birth_date": "2000-01-01", "age_band": "18+"}, "age_band"), ({}, "birth_date"),
])
def test_malformed_ages_name_the_field(given: dict[str, str], field: str) -> None:
    with pytest.raises(CharterError) as err:
        latest_birth_of(today=TODAY, **given)
    assert err.value.field == field


def test_band_parsing() -> None:
    assert parse_age_band(" 14-17 ") == (14, 17)
    assert parse_age_band("18+") == (18, None)
