import calendar
from datetime import date

import pytest
from hypothesis import given

from charter.jurisdictions import Jurisdiction, RequestKind, eu
from charter.jurisdictions.eu import add_months

from .strategies import kinds, received_dates


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (date(2025, 1, 31), date(2025, 2, 28)),
        (date(2024, 1, 31), date(2024, 2, 29)),
        (date(2024, 1, 29), date(2024, 2, 29)),
        (date(2025, 1, 29), date(2025, 2, 28)),
        (date(2025, 3, 31), date(2025, 4, 30)),
        (date(2025, 8, 31), date(2025, 9, 30)),
        (date(2025, 4, 30), date(2025, 5, 30)),
        (date(2025, 12, 15), date(2026, 1, 15)),
        (date(2025, 12, 31), date(2026, 1, 31)),
    ],
)
def test_one_month_with_end_of_month_clamping(received: date, due: date) -> None:
    result = eu.deadline(received, RequestKind.ACCESS)
    assert result.due == due
    assert result.rule == "GDPR art. 12(3): one month"


def test_add_months_over_years() -> None:
    assert add_months(date(2023, 11, 30), 3) == date(2024, 2, 29)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)


def test_note_mentions_the_extension() -> None:
    note = eu.deadline(date(2025, 1, 1), RequestKind.ERASURE).note
    assert note is not None
    assert "two further months" in note.en


@given(received_dates, kinds)
def test_due_within_28_to_31_days(received: date, kind: RequestKind) -> None:
    result = eu.deadline(received, kind)
    assert result.jurisdiction is Jurisdiction.EU
    assert 28 <= (result.due - received).days <= 31
    assert result.due.month == received.month % 12 + 1
    month_end = calendar.monthrange(result.due.year, result.due.month)[1]
    assert result.due.day == received.day or result.due.day == month_end < received.day


def test_pack_basics() -> None:
    assert eu.PACK.minor_age == 16
    assert [(c.code, c.hours) for c in eu.PACK.incident_clocks] == [("authority_notification", 72)]
