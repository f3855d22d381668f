"""The hash of an event is a stored format: chains written by any earlier version must still verify."""

from __future__ import annotations

import datetime as dt

import pytest

from charter.audit.chain import GENESIS, event_hash

_EAST_8 = dt.timezone(dt.timedelta(hours=8))


@pytest.mark.parametrize(("seq", "at", "who_what_whom", "data", "prev_hash", "digest"), [
    (1, dt.datetime(2025, 3, 1, 8, 30, 0, 123456, tzinfo=dt.UTC), ("test", "controller.created", "acme"), {},
     GENESIS, "2d17f2787e0409046a14f0ea772060b859d489df5f7a610ed41e4f12938ec42a"),
    # Another offset is hashed as UTC; keys sorted at every depth; not ASCII-escaped; what JSON lacks as str().
    (7, dt.datetime(2025, 3, 1, 16, 30, 0, 5, tzinfo=_EAST_8), ("staff:3", "request.task_done", "request:r1"),
     {"z": [1, None, True], "a": {"名": "é"}, "day": dt.date(2025, 3, 1)}, "sha256:ab",
     "a789a70374521b325aca6f939f276d8b6729ab38c1490228a870ccab2347f3a8"),
    # SQLite hands `at` back naive: it was written in UTC.
    (2, dt.datetime(2025, 3, 1, 8, 30), ("a", "b", "c"), {"n": 1.5}, "sha256:cd",
     "7d4cd1b71674b8295d87debb04ff6073657db781bed390fbaf776d29a26877f1"),
])
def test_the_hash_of_an_event_does_not_change(seq: int, at: dt.datetime, who_what_whom: tuple[str, str, str],
                                               data: dict[str, object], prev_hash: str, digest: str) -> None:
    actor, action, target = who_what_whom
    assert event_hash("acme", seq=seq, at=at, actor=actor, action=action, target=target, data=data,
                      prev_hash=prev_hash) == f"sha256:{digest}"
