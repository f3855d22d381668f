from datetime import date, timedelta

import pytest
from hypothesis import given

from charter.jurisdictions import Jurisdiction, RequestKind, cn, cn_calendar
from charter.jurisdictions.cn import CAP_RULE, FALLBACK_NOTE, METHOD_RULE, deadline

from .strategies import kinds, received_dates


def test_request_received_just_before_national_day_2025() -> None:
    result = deadline(date(2025, 9, 30), RequestKind.ERASURE)
    assert result.jurisdiction is Jurisdiction.CN
    assert result.due == date(2025, 10, 28)
    assert result.rule == METHOD_RULE
    assert result.note is None
    assert result.is_calendar_fallback is False


def test_request_spanning_spring_festival_2025() -> None:
    assert deadline(date(2025, 1, 24), RequestKind.RECTIFICATION).due == date(2025, 2, 20)


def test_ordinary_fortnight_is_three_weeks() -> None:
    # Mon 2025-03-03, no holidays: 15 working days later is Mon 2025-03-24.
    assert deadline(date(2025, 3, 3), RequestKind.CANCELLATION).due == date(2025, 3, 24)


def test_kinds_outside_the_2019_method_say_charter_extends_it() -> None:
    result = deadline(date(2025, 3, 3), RequestKind.ACCESS)
    assert result.due == date(2025, 3, 24)
    assert result.rule.startswith(METHOD_RULE)
    assert "applied by Charter to access" in result.rule


def test_unpublished_year_falls_back_and_notes_it() -> None:
    result = deadline(date(2031, 3, 6), RequestKind.ERASURE)
    assert result.due == date(2031, 3, 27)
    assert result.is_calendar_fallback is True
    assert result.note == FALLBACK_NOTE
    assert "Monday–Friday" in FALLBACK_NOTE.en
    assert "周一至周五" in FALLBACK_NOTE.zh


def test_thirty_day_cap_steps_back_to_a_working_day(monkeypatch: pytest.MonkeyPatch) -> None:
    # No published year makes the cap bind (the longest span is 29 days): imagine a 3-week shutdown in March.
    shutdown = {date(2025, 3, 4) + timedelta(days=i) for i in range(21)}
    real = cn_calendar.is_working_day
    monkeypatch.setattr(cn_calendar, "is_working_day", lambda d: d not in shutdown and real(d))
    result = deadline(date(2025, 3, 3), RequestKind.ERASURE)
    # Day 30 is Wed Apr 2, a working day; 15 working days would be Apr 15.
    assert result.due == date(2025, 4, 2)
    assert result.rule == CAP_RULE


def test_thirty_day_cap_on_a_day_off_moves_earlier(monkeypatch: pytest.MonkeyPatch) -> None:
    shutdown = {date(2025, 3, 4) + timedelta(days=i) for i in range(21)}
    real = cn_calendar.is_working_day
    monkeypatch.setattr(cn_calendar, "is_working_day", lambda d: d not in shutdown and real(d))
    # Received Wed Mar 5: day 30 is Fri Apr 4 (Qingming, off), Apr 3 is the last working day before it.
    assert not real(date(2025, 4, 4))
    result = deadline(date(2025, 3, 5), RequestKind.ERASURE)
    assert result.due == date(2025, 4, 3)
    assert result.rule == CAP_RULE


@given(received_dates, kinds)
def test_due_is_a_working_day_within_thirty_days(received: date, kind: RequestKind) -> None:
    due = deadline(received, kind).due
    assert received < due <= received + timedelta(days=30)
    assert cn_calendar.is_working_day(due)


@given(received_dates, received_dates, kinds)
def test_due_is_monotonic_in_the_received_date(first: date, second: date, kind: RequestKind) -> None:
    early, late = sorted((first, second))
    assert deadline(early, kind).due <= deadline(late, kind).due


@given(received_dates, kinds)
def test_fallback_flag_and_note_agree(received: date, kind: RequestKind) -> None:
    result = deadline(received, kind)
    assert (result.note is not None) is result.is_calendar_fallback
    assert result.is_calendar_fallback is (not cn_calendar.is_published(result.due))


def test_pack_basics() -> None:
    assert cn.PACK.jurisdiction is Jurisdiction.CN
    assert cn.PACK.minor_age == 14
    assert "art. 31" in cn.PACK.minor_age_citation
