from datetime import date, timedelta

import pytest
from hypothesis import given

from charter.core.i18n import Lang
from charter.jurisdictions import Jurisdiction, RequestKind, hk

from .strategies import kinds, received_dates


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (date(2025, 1, 1), date(2025, 2, 10)),
        (date(2024, 2, 20), date(2024, 3, 31)),  # leap year
        (date(2025, 12, 1), date(2026, 1, 10)),
    ],
)
def test_forty_calendar_days(received: date, due: date) -> None:
    assert hk.deadline(received, RequestKind.ACCESS).due == due


def test_statutory_kinds_cite_their_section() -> None:
    assert hk.deadline(date(2025, 1, 1), RequestKind.ACCESS).rule == "PDPO s.19(1): 40 days"
    assert hk.deadline(date(2025, 1, 1), RequestKind.RECTIFICATION).rule == "PDPO s.23(1): 40 days"


def test_kinds_pdpo_does_not_cover_say_so() -> None:
    result = hk.deadline(date(2025, 1, 1), RequestKind.ERASURE)
    assert result.due == date(2025, 2, 10)
    assert "by analogy" in result.rule
    assert "no deadline for erasure" in result.rule


def test_note_is_traditional_chinese_for_hong_kong() -> None:
    note = hk.deadline(date(2025, 1, 1), RequestKind.ACCESS).note
    assert note is not None
    assert note.zh_tw is not None
    assert "書面" in note.get(Lang.ZH_TW)


@given(received_dates, kinds)
def test_always_forty_days(received: date, kind: RequestKind) -> None:
    result = hk.deadline(received, kind)
    assert result.jurisdiction is Jurisdiction.HK
    assert result.due - received == timedelta(days=40)


def test_pack_basics() -> None:
    assert hk.PACK.minor_age == 18
    assert hk.PACK.incident_clocks == ()
    assert hk.PACK.legal_bases == ()
