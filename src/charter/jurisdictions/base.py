"""Vocabulary shared by every jurisdiction rule pack."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import TypeVar

from charter.core.i18n import Text

_E = TypeVar("_E", bound=StrEnum)


def _parse(enum: type[_E], value: object, what: str) -> _E:
    if isinstance(value, enum):
        return value
    if isinstance(value, str):
        for member in enum:
            if member.value.lower() == value.strip().lower():
                return member
    allowed = ", ".join(member.value for member in enum)
    raise ValueError(f"unknown {what} {value!r}: use one of {allowed}")


class Jurisdiction(StrEnum):
    CN = "CN"
    HK = "HK"
    EU = "EU"

    @classmethod
    def parse(cls, value: object) -> Jurisdiction:
        """Accept a member or a code such as `"cn"`; anything else raises `ValueError`."""
        return _parse(cls, value, "jurisdiction")


class RequestKind(StrEnum):
    ACCESS = "access"
    PORTABILITY = "portability"
    RECTIFICATION = "rectification"
    ERASURE = "erasure"
    RESTRICTION = "restriction"
    WITHDRAWAL = "withdrawal"
    CANCELLATION = "cancellation"
    EXPLANATION = "explanation"

    @classmethod
    def parse(cls, value: object) -> RequestKind:
        return _parse(cls, value, "request kind")


ALL_KINDS: frozenset[RequestKind] = frozenset(RequestKind)


class LegalBasis(StrEnum):
    """The seven lawful bases of PIPL art. 13; PIPL has no "legitimate interests"."""

    CONSENT = "consent"
    CONTRACT = "contract"
    LEGAL_DUTY = "legal_duty"
    EMERGENCY = "emergency"
    NEWS = "news"
    PUBLIC_INFO = "public_info"
    OTHER_LAW = "other_law"

    @property
    def label(self) -> Text:
        return _BASIS_LABELS[self]

    @property
    def citation(self) -> str:
        return _BASIS_CITATIONS[self]


_BASIS_LABELS: dict[LegalBasis, Text] = {
    LegalBasis.CONSENT: Text("取得个人的同意", "the individual's consent"),
    LegalBasis.CONTRACT: Text(
        "订立、履行个人作为一方当事人的合同所必需，或依法实施人力资源管理所必需",
        "necessary for a contract with the individual, or for lawful HR management",
    ),
    LegalBasis.LEGAL_DUTY: Text(
        "履行法定职责或者法定义务所必需", "necessary for a statutory duty or obligation"
    ),
    LegalBasis.EMERGENCY: Text(
        "应对突发公共卫生事件，或紧急情况下保护自然人的生命健康和财产安全所必需",
        "public-health emergency, or protecting life, health or property in an emergency",
    ),
    LegalBasis.NEWS: Text(
        "为公共利益实施新闻报道、舆论监督等行为，在合理范围内处理",
        "news reporting or public-opinion oversight in the public interest, within reasonable scope",
    ),
    LegalBasis.PUBLIC_INFO: Text(
        "在合理范围内处理个人自行公开或者其他已经合法公开的个人信息",
        "information the individual made public or that is lawfully public, within reasonable scope",
    ),
    LegalBasis.OTHER_LAW: Text(
        "法律、行政法规规定的其他情形", "other cases provided by laws and administrative regulations"
    ),
}

_BASIS_CITATIONS: dict[LegalBasis, str] = {
    LegalBasis.CONSENT: "PIPL art. 13(1)(1)",
    LegalBasis.CONTRACT: "PIPL art. 13(1)(2)",
    LegalBasis.LEGAL_DUTY: "PIPL art. 13(1)(3)",
    LegalBasis.EMERGENCY: "PIPL art. 13(1)(4)",
    LegalBasis.NEWS: "PIPL art. 13(1)(5)",
    LegalBasis.PUBLIC_INFO: "PIPL art. 13(1)(6), art. 27",
    LegalBasis.OTHER_LAW: "PIPL art. 13(1)(7)",
}


@dataclass(frozen=True)
class Deadline:
    """When a data-subject request must be answered, and the rule that says so."""

    jurisdiction: Jurisdiction
    due: date
    rule: str
    note: Text | None = None
    is_calendar_fallback: bool = False


@dataclass(frozen=True)
class RefusalGround:
    code: str
    citation: str
    label: Text
    applies_to: frozenset[RequestKind]


@dataclass(frozen=True)
class NoticeElement:
    code: str
    label: Text
    citation: str


@dataclass(frozen=True)
class IncidentClock:
    code: str
    hours: int
    label: Text
    citation: str


DeadlineRule = Callable[[date, RequestKind], Deadline]


@dataclass(frozen=True)
class RulePack:
    """Everything Charter knows about one regime, as plain data plus one deadline function.

    `minor_age` is a threshold: a person younger than it is treated as a minor.
    """

    jurisdiction: Jurisdiction
    name: Text
    deadline: DeadlineRule
    refusal_grounds: tuple[RefusalGround, ...]
    legal_bases: tuple[LegalBasis, ...]
    minor_age: int
    minor_age_citation: str
    notice_elements: tuple[NoticeElement, ...]
    incident_clocks: tuple[IncidentClock, ...]

    def grounds_for(self, kind: RequestKind) -> tuple[RefusalGround, ...]:
        return tuple(ground for ground in self.refusal_grounds if kind in ground.applies_to)
