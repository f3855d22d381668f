"""Working days on the mainland statutory holiday calendar.

`chinese_calendar` knows the State Council holiday arrangements, including the weekend days that become
working days. It only knows the years published so far; outside them Monday–Friday is used and the result
says so.
"""

from __future__ import annotations

import functools
from datetime import date, timedelta
from typing import NamedTuple

import chinese_calendar  # type: ignore[import-untyped, unused-ignore]  # ships no type information

_KNOWN_DAYS: tuple[date, ...] = (*chinese_calendar.holidays, *chinese_calendar.workdays)

PUBLISHED_YEARS: range = range(min(_KNOWN_DAYS).year, max(_KNOWN_DAYS).year + 1)
"""Years for which the installed calendar has the published holiday arrangement."""


class WorkingDay(NamedTuple):
    """A computed date, and whether any day on the way was outside the published calendar."""

    day: date
    used_fallback: bool


def is_published(day: date) -> bool:
    return day.year in PUBLISHED_YEARS


@functools.lru_cache(maxsize=4096)
def is_working_day(day: date) -> bool:
    """Whether `day` is a mainland working day; Monday–Friday for years not yet published.

    >>> is_working_day(date(2025, 1, 26))  # a Sunday worked in exchange for the Spring Festival
    True
    """
    if is_published(day):
        return bool(chinese_calendar.is_workday(day))
    return day.weekday() < 5


def add_working_days(start: date, n: int) -> WorkingDay:
    """The `n`-th working day after `start`; `start` itself is day 0 and never counts.

    >>> add_working_days(date(2025, 9, 30), 3)  # National Day and Mid-Autumn, then a worked Saturday
    WorkingDay(day=datetime.date(2025, 10, 11), used_fallback=False)
    """
    if n < 0:
        raise ValueError(f"n must be zero or more, got {n}")
    day, counted, used_fallback = start, 0, False
    while counted < n:
        day += timedelta(days=1)
        used_fallback = used_fallback or not is_published(day)
        if is_working_day(day):
            counted += 1
    return WorkingDay(day, used_fallback)


def last_working_day_on_or_before(day: date, after: date) -> WorkingDay:
    """The latest working day in `(after, day]`; `day` itself when nothing in that window is a working day."""
    used_fallback, candidate = False, day
    while candidate > after:
        used_fallback = used_fallback or not is_published(candidate)
        if is_working_day(candidate):
            return WorkingDay(candidate, used_fallback)
        candidate -= timedelta(days=1)
    return WorkingDay(day, used_fallback)
