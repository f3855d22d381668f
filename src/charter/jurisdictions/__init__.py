"""Jurisdiction rule packs: deadlines, refusal grounds and notice contents for CN, HK and EU.

A policy names its regimes (`jurisdictions: [CN, HK]`); these functions combine the packs so the strictest
rule wins. Everything here is pure: no I/O, no clock.

>>> from datetime import date
>>> due_date(date(2025, 9, 30), "erasure", ["CN", "EU"]).due
datetime.date(2025, 10, 28)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime

from charter.jurisdictions import cn, eu, hk
from charter.jurisdictions.base import (
    Deadline,
    IncidentClock,
    Jurisdiction,
    LegalBasis,
    NoticeElement,
    RefusalGround,
    RequestKind,
    RulePack,
)

__all__ = [
    "Deadline",
    "IncidentClock",
    "Jurisdiction",
    "LegalBasis",
    "NoticeElement",
    "RefusalGround",
    "RequestKind",
    "RulePack",
    "due_date",
    "incident_clocks",
    "minor_age",
    "parse_jurisdictions",
    "refusal_grounds",
    "required_notice_elements",
    "rule_pack",
]

_PACKS: dict[Jurisdiction, RulePack] = {pack.jurisdiction: pack for pack in (cn.PACK, hk.PACK, eu.PACK)}


def rule_pack(jurisdiction: Jurisdiction | str) -> RulePack:
    """The pack for one regime: `rule_pack("HK").minor_age == 18`."""
    return _PACKS[Jurisdiction.parse(jurisdiction)]


def parse_jurisdictions(jurisdictions: Iterable[Jurisdiction | str]) -> list[Jurisdiction]:
    """Distinct jurisdictions in canonical order (CN, HK, EU); empty or unknown input raises `ValueError`."""
    given = {Jurisdiction.parse(value) for value in jurisdictions}
    if not given:
        allowed = ", ".join(Jurisdiction)
        raise ValueError(f"no jurisdiction given (got an empty list): use one or more of {allowed}")
    return [j for j in Jurisdiction if j in given]


def _packs(jurisdictions: Iterable[Jurisdiction | str]) -> list[RulePack]:
    return [_PACKS[j] for j in parse_jurisdictions(jurisdictions)]


def due_date(
    received: date, kind: RequestKind | str, jurisdictions: Iterable[Jurisdiction | str]
) -> Deadline:
    """The earliest deadline any named regime sets; on a tie the first in CN, HK, EU order.

    `received` is the local calendar date of receipt (day 0); a `datetime` is refused so a time zone is never
    guessed.

    >>> due_date(date(2024, 1, 31), RequestKind.ACCESS, [Jurisdiction.EU]).due
    datetime.date(2024, 2, 29)
    """
    if isinstance(received, datetime):
        raise TypeError(f"received must be a local date, not a datetime: {received!r}")
    request_kind = RequestKind.parse(kind)
    deadlines = [pack.deadline(received, request_kind) for pack in _packs(jurisdictions)]
    return min(deadlines, key=lambda deadline: deadline.due)


def _join(first: str, second: str) -> str:
    return first if second in first.split("; ") else f"{first}; {second}"


def refusal_grounds(
    jurisdictions: Iterable[Jurisdiction | str], kind: RequestKind | str
) -> list[RefusalGround]:
    """Grounds for refusing a request of `kind`, one per code; a shared code lists every citation."""
    request_kind = RequestKind.parse(kind)
    merged: dict[str, RefusalGround] = {}
    for pack in _packs(jurisdictions):
        for ground in pack.grounds_for(request_kind):
            seen = merged.get(ground.code)
            merged[ground.code] = (
                ground
                if seen is None
                else replace(
                    seen,
                    citation=_join(seen.citation, ground.citation),
                    applies_to=seen.applies_to | ground.applies_to,
                )
            )
    return list(merged.values())


def required_notice_elements(jurisdictions: Iterable[Jurisdiction | str]) -> list[NoticeElement]:
    """What a breach notice to individuals must contain under every named regime, one entry per code."""
    merged: dict[str, NoticeElement] = {}
    for pack in _packs(jurisdictions):
        for element in pack.notice_elements:
            seen = merged.get(element.code)
            merged[element.code] = (
                element if seen is None else replace(seen, citation=_join(seen.citation, element.citation))
            )
    return list(merged.values())


def incident_clocks(jurisdictions: Iterable[Jurisdiction | str]) -> list[IncidentClock]:
    """Every reporting clock the named regimes start, shortest first."""
    clocks = [clock for pack in _packs(jurisdictions) for clock in pack.incident_clocks]
    return sorted(clocks, key=lambda clock: clock.hours)


def minor_age(jurisdictions: Iterable[Jurisdiction | str]) -> int:
    """The highest minor threshold among the regimes, so nobody who is a minor anywhere slips through.

    >>> minor_age(["CN", "EU"])
    16
    """
    return max(pack.minor_age for pack in _packs(jurisdictions))
