"""Erasure strategies on single values: each is idempotent, so a repeated erasure does no harm."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from charter.connectors.base import ErasureSpec, FieldType, Granularity, Strategy
from charter.connectors.transforms import MIN_HASH_LENGTH, coerce, erased_value, is_hashed, keyed_hash

KEY = b"k" * 32

ERASURES = st.one_of(
    st.just(ErasureSpec(strategy=Strategy.NULLIFY)),
    st.builds(lambda v: ErasureSpec(strategy=Strategy.MASK, value=v), st.text(max_size=5)),
    st.just(ErasureSpec(strategy=Strategy.HASH)),
    st.builds(lambda n: ErasureSpec(strategy=Strategy.GENERALISE, keep_chars=n), st.integers(0, 6)),
    st.builds(lambda n: ErasureSpec(strategy=Strategy.GENERALISE, round_to=n), st.integers(1, 1000)),
    st.builds(lambda g: ErasureSpec(strategy=Strategy.GENERALISE, to=g), st.sampled_from(Granularity)),
    st.just(ErasureSpec(strategy=Strategy.KEEP, rule="r")),
)
VALUES = st.one_of(st.none(), st.text(max_size=30), st.integers(-10**6, 10**6), st.dates(),
                   st.datetimes(), st.floats(allow_nan=False, allow_infinity=False, width=32))


@given(ERASURES, VALUES)
def test_every_strategy_is_idempotent(erasure: ErasureSpec, value: object) -> None:
    once = erased_value(erasure, value, hash_key=KEY)
    assert erased_value(erasure, once, hash_key=KEY) == once


@given(st.text(min_size=1, max_size=40), st.integers(MIN_HASH_LENGTH, 80))
def test_a_cut_hash_is_still_recognised_and_stable(value: str, length: int) -> None:
    hashed = keyed_hash(value, KEY, length)
    assert len(hashed) <= length
    assert is_hashed(hashed)
    assert keyed_hash(value, KEY, length) == hashed


def test_generalisations() -> None:
    year = ErasureSpec(strategy=Strategy.GENERALISE, to=Granularity.YEAR)
    month = ErasureSpec(strategy=Strategy.GENERALISE, to=Granularity.MONTH)
    assert erased_value(year, dt.date(1990, 5, 17)) == dt.date(1990, 1, 1)
    assert erased_value(month, dt.datetime(2024, 3, 9, 13, 45)) == dt.datetime(2024, 3, 1)
    assert erased_value(year, "1990-05-17") == "1990-01-01"
    assert erased_value(ErasureSpec(strategy=Strategy.GENERALISE, keep_chars=3), "200001") == "200***"
    assert erased_value(ErasureSpec(strategy=Strategy.GENERALISE, round_to=10), 47) == 40


def test_a_hash_without_a_key_is_refused() -> None:
    with pytest.raises(ValueError, match="key"):
        erased_value(ErasureSpec(strategy=Strategy.HASH), "x")


@pytest.mark.parametrize(("value", "field_type", "expected"), [
    ("42", FieldType.INTEGER, 42),
    (7, FieldType.STRING, "7"),
    ("2024-03-09", FieldType.DATE, dt.date(2024, 3, 9)),
    ("2024-03-09T10:00:00", FieldType.DATETIME, dt.datetime(2024, 3, 9, 10)),
    ("true", FieldType.BOOLEAN, True),
    ("abc", FieldType.INTEGER, "abc"),
    (None, FieldType.INTEGER, None),
])
def test_values_are_coerced_to_the_declared_type_when_they_read_as_it(value: object, field_type: FieldType,
                                                                       expected: object) -> None:
    assert coerce(value, field_type) == expected


@given(st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.decimals(allow_nan=False, allow_infinity=False,
                                                                                places=3)),
       st.integers(1, 10**6))
@example(Decimal("104671684996294743467150636929912.450"), 171811)  # beyond Decimal's 28 digits: found by hypothesis
def test_rounding_any_number_settles_after_one_pass(value: object, step: int) -> None:
    erasure = ErasureSpec(strategy=Strategy.GENERALISE, round_to=step)
    once = erased_value(erasure, value)
    assert erased_value(erasure, once) == once
