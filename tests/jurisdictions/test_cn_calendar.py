from datetime import date, timedelta

import chinese_calendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from charter.jurisdictions.cn_calendar import (
    PUBLISHED_YEARS,
    WorkingDay,
    add_working_days,
    is_published,
    is_working_day,
    last_working_day_on_or_before,
)

from .strategies import received_dates, unpublished_dates


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def test_published_years_cover_the_known_calendar() -> None:
    assert 2004 in PUBLISHED_YEARS
    assert 2025 in PUBLISHED_YEARS
    assert 2031 not in PUBLISHED_YEARS
    assert is_published(date(2025, 10, 1))
    assert not is_published(date(2031, 10, 1))


def test_calendar_facts_for_2025_match_chinese_calendar() -> None:
    # Spring Festival 2025: Jan 28 – Feb 4 off; Sunday Jan 26 and Saturday Feb 8 worked.
    assert chinese_calendar.is_workday(date(2025, 1, 26))
    assert chinese_calendar.is_workday(date(2025, 2, 8))
    assert not any(chinese_calendar.is_workday(d) for d in _days(date(2025, 1, 28), date(2025, 2, 4)))
    # National Day + Mid-Autumn 2025: Oct 1 – 8 off; Sunday Sep 28 and Saturday Oct 11 worked.
    assert chinese_calendar.is_workday(date(2025, 9, 28))
    assert chinese_calendar.is_workday(date(2025, 10, 11))
    assert not any(chinese_calendar.is_workday(d) for d in _days(date(2025, 10, 1), date(2025, 10, 8)))


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2025, 1, 26), True),  # adjusted working Sunday
        (date(2025, 1, 28), False),  # Spring Festival, a Tuesday
        (date(2025, 10, 6), False),  # Mid-Autumn, a Monday
        (date(2025, 10, 11), True),  # adjusted working Saturday
        (date(2025, 10, 12), False),  # ordinary Sunday
        (date(2031, 10, 1), True),  # unpublished year: a Wednesday counts as working
        (date(2031, 10, 4), False),  # unpublished year: a Saturday does not
    ],
)
def test_is_working_day(day: date, expected: bool) -> None:
    assert is_working_day(day) is expected


def test_national_day_2025() -> None:
    # Received Tue Sep 30 (day 0); Oct 1–8 off; Oct 9, 10, Sat 11 are working days 1–3.
    assert add_working_days(date(2025, 9, 30), 3) == WorkingDay(date(2025, 10, 11), False)
    assert add_working_days(date(2025, 9, 30), 15) == WorkingDay(date(2025, 10, 28), False)


def test_just_before_national_day_counts_the_working_sunday() -> None:
    # Received Fri Sep 26: Sun Sep 28 is working day 1.
    assert add_working_days(date(2025, 9, 26), 1) == WorkingDay(date(2025, 9, 28), False)
    assert add_working_days(date(2025, 9, 26), 15) == WorkingDay(date(2025, 10, 23), False)


def test_spring_festival_2025() -> None:
    # Received Fri Jan 24: Sun Jan 26 is day 1, Mon Jan 27 day 2, then nothing until Wed Feb 5.
    assert add_working_days(date(2025, 1, 24), 1) == WorkingDay(date(2025, 1, 26), False)
    assert add_working_days(date(2025, 1, 24), 3) == WorkingDay(date(2025, 2, 5), False)
    assert add_working_days(date(2025, 1, 24), 6) == WorkingDay(date(2025, 2, 8), False)
    assert add_working_days(date(2025, 1, 24), 15) == WorkingDay(date(2025, 2, 20), False)


def test_day_zero_is_the_day_received() -> None:
    assert add_working_days(date(2025, 3, 3), 0) == WorkingDay(date(2025, 3, 3), False)
    assert add_working_days(date(2025, 3, 3), 1) == WorkingDay(date(2025, 3, 4), False)


def test_negative_count_is_rejected() -> None:
    with pytest.raises(ValueError, match="-1"):
        add_working_days(date(2025, 3, 3), -1)


def test_unpublished_year_uses_monday_to_friday_and_says_so() -> None:
    # Thu 2031-03-06 + 15 weekdays.
    assert add_working_days(date(2031, 3, 6), 15) == WorkingDay(date(2031, 3, 27), True)


def test_crossing_into_an_unpublished_year_sets_the_flag() -> None:
    last = max(PUBLISHED_YEARS)
    result = add_working_days(date(last, 12, 24), 15)
    assert result.used_fallback
    assert result.day.year == last + 1


def test_staying_inside_a_published_year_does_not_set_the_flag() -> None:
    last = max(PUBLISHED_YEARS)
    assert add_working_days(date(last, 3, 2), 15).used_fallback is False


def test_last_working_day_steps_back_over_a_holiday() -> None:
    # Oct 1–8 2025 off: the last working day on or before Oct 5 is Tue Sep 30.
    assert last_working_day_on_or_before(date(2025, 10, 5), after=date(2025, 9, 1)) == WorkingDay(
        date(2025, 9, 30), False
    )
    assert last_working_day_on_or_before(date(2025, 10, 11), after=date(2025, 9, 1)).day == date(2025, 10, 11)


@given(received_dates, st.integers(min_value=1, max_value=40))
def test_result_is_the_nth_working_day_after_start(start: date, n: int) -> None:
    day, _ = add_working_days(start, n)
    assert day > start
    assert is_working_day(day)
    assert sum(is_working_day(d) for d in _days(start + timedelta(days=1), day)) == n


@given(received_dates, st.integers(min_value=1, max_value=40))
def test_flag_is_set_exactly_when_a_counted_day_is_unpublished(start: date, n: int) -> None:
    day, used_fallback = add_working_days(start, n)
    assert used_fallback is (not is_published(day))  # days only move forward, so the last is the latest year


@given(unpublished_dates)
def test_unpublished_years_are_monday_to_friday(day: date) -> None:
    assert is_working_day(day) is (day.weekday() < 5)
