"""What Charter knows of a person's age, reduced to what decisions need: the latest day they can have been born.

A host gives either a date of birth or an age band (`"14-17"`, `"18+"`) at registration. Both become the
*latest possible birth date*: a person is treated as a minor while anyone born on that day would still be under
the threshold, so an uncertain band errs on the side of asking for a guardian. Pure: no I/O, no clock.

>>> latest_birth_of(age_band="14-17", today=dt.date(2025, 6, 1))
datetime.date(2011, 6, 1)
>>> minor_until(dt.date(2011, 6, 1), 14)
datetime.date(2025, 6, 1)
"""

from __future__ import annotations

import datetime as dt
import re

from charter.core.errors import CharterError

__all__ = ["add_years", "is_minor", "latest_birth_of", "minor_until", "parse_age_band", "parse_birth_date"]

_BAND = re.compile(r"^(\d{1,3})(?:-(\d{1,3})|\+)$")
_OLDEST = 130


def add_years(day: dt.date, years: int) -> dt.date:
    """`day` moved by whole years; 29 February becomes 1 March in other years (a minor one day longer)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return dt.date(day.year + years, 3, 1)


def parse_birth_date(text: str, today: dt.date) -> dt.date:
    try:
        born = dt.date.fromisoformat(text.strip())
    except (ValueError, AttributeError) as exc:
        raise CharterError("the date of birth is not a date", field="birth_date",
                           fix="Give it as YYYY-MM-DD, e.g. 2011-06-01.") from exc
    if born > today:
        raise CharterError("the date of birth is in the future", field="birth_date",
                           fix="Check the year, month and day.")
    if born < add_years(today, -_OLDEST):
        raise CharterError(f"the date of birth is more than {_OLDEST} years ago", field="birth_date",
                           fix="Check the year.")
    return born


def parse_age_band(text: str) -> tuple[int, int | None]:
    """`"14-17"` → (14, 17); `"18+"` → (18, None)."""
    match = _BAND.match(text.strip()) if isinstance(text, str) else None
    low, high = (int(match.group(1)), int(match.group(2)) if match.group(2) else None) if match else (-1, None)
    if match is None or low > _OLDEST or (high is not None and not low <= high <= _OLDEST):
        raise CharterError(f"the age band {text!r} is not valid", field="age_band",
                           fix='Give ages in whole years as "LOW-HIGH" (e.g. "14-17") or "LOW+" (e.g. "18+").')
    return low, high


def latest_birth_of(*, birth_date: str | None = None, age_band: str | None = None, today: dt.date) -> dt.date:
    """The latest day the person can have been born, from exactly one of a birth date or an age band."""
    if birth_date is not None and age_band is not None:
        raise CharterError("both a date of birth and an age band were given", field="age_band",
                           fix="Send one of them: the date of birth when you have it.")
    if birth_date is not None:
        return parse_birth_date(birth_date, today)
    if age_band is None:
        raise CharterError("no date of birth or age band was given", field="birth_date",
                           fix="Send `birth_date` (YYYY-MM-DD) or `age_band` (e.g. \"14-17\").")
    low, _high = parse_age_band(age_band)
    return add_years(today, -low)


def minor_until(latest_birth: dt.date, threshold: int) -> dt.date:
    """The first day on which the person is certainly `threshold` years old or more."""
    return add_years(latest_birth, threshold)


def is_minor(latest_birth: dt.date | None, threshold: int, today: dt.date) -> bool:
    return latest_birth is not None and today < minor_until(latest_birth, threshold)
