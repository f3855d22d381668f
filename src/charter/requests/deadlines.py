"""Whether a request is late, and whether Hong Kong's written reason is due. Pure: the caller gives `today`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["LATE_REASON_WARNING_DAYS", "DeadlineFlags", "deadline_flags"]

LATE_REASON_WARNING_DAYS = 7
"""How many days before the due date an HK request without a recorded reason starts being flagged."""


@dataclass(frozen=True)
class DeadlineFlags:
    is_overdue: bool
    needs_late_reason: bool
    """HK (PDPO s.19(2), s.23(2)): not done, no written reason yet, and the due date is near or past."""
    late_reason_in_time: bool | None
    """Whether the reason was recorded by the due date; None when none was recorded."""


def deadline_flags(*, is_done: bool, jurisdictions: Sequence[str], due_on: dt.date,
                   late_reason_on: dt.date | None, today: dt.date) -> DeadlineFlags:
    in_time = None if late_reason_on is None else late_reason_on <= due_on
    near = today >= due_on - dt.timedelta(days=LATE_REASON_WARNING_DAYS)
    return DeadlineFlags(is_overdue=not is_done and today > due_on,
                         needs_late_reason=not is_done and "HK" in jurisdictions and late_reason_on is None and near,
                         late_reason_in_time=in_time)
