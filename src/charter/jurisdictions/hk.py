"""Hong Kong: Personal Data (Privacy) Ordinance, Cap. 486 ("PDPO")."""

from __future__ import annotations

from datetime import date, timedelta

from charter.core.i18n import Text
from charter.jurisdictions.base import (
    Deadline,
    IncidentClock,
    Jurisdiction,
    NoticeElement,
    RefusalGround,
    RequestKind,
    RulePack,
)

DAYS = 40
ACCESS = frozenset({RequestKind.ACCESS})
CORRECTION = frozenset({RequestKind.RECTIFICATION})
BOTH = ACCESS | CORRECTION

_STATUTORY_RULES: dict[RequestKind, str] = {
    RequestKind.ACCESS: "PDPO s.19(1): 40 days",
    RequestKind.RECTIFICATION: "PDPO s.23(1): 40 days",
}

LATE_NOTE = Text(
    "如未能在40日内完成，须在期限届满前以书面通知原因（PDPO 第19(2)、23(2)条）。",
    "If the request cannot be met within 40 days, give written reasons before day 40 "
    "(PDPO s.19(2), s.23(2)).",
    "如未能在40日內完成，須在期限屆滿前以書面通知原因（《私隱條例》第19(2)、23(2)條）。",
)


def deadline(received: date, kind: RequestKind) -> Deadline:
    rule = _STATUTORY_RULES.get(
        kind, f"PDPO s.19/s.23 by analogy: 40 days (PDPO sets no deadline for {kind})"
    )
    return Deadline(Jurisdiction.HK, received + timedelta(days=DAYS), rule, LATE_NOTE)


def _ground(code: str, citation: str, applies_to: frozenset[RequestKind], label: Text) -> RefusalGround:
    return RefusalGround(code, citation, label, applies_to)


REFUSAL_GROUNDS: tuple[RefusalGround, ...] = (
    _ground(
        "identity_not_verified",
        "PDPO s.20(1)(a), s.24(1)",
        BOTH,
        Text("未能核实请求者身份", "the requestor's identity is not verified", "未能核實要求者身分"),
    ),
    _ground(
        "other_individual_data",
        "PDPO s.20(1)(b), s.20(2)",
        ACCESS,
        Text(
            "会披露其他个人的资料且该人未同意",
            "would disclose another individual's data without their consent",
            "會披露其他個人的資料而該人未同意",
        ),
    ),
    _ground(
        "language_not_chinese_or_english",
        "PDPO s.20(3)(a), s.24(3)(a)",
        BOTH,
        Text(
            "请求并非以中文或英文书面提出",
            "the request is not in writing in Chinese or English",
            "要求並非以中文或英文書面提出",
        ),
    ),
    _ground(
        "insufficient_information",
        "PDPO s.20(3)(b), s.24(3)(c)",
        BOTH,
        Text(
            "未获提供足以找出资料或确定错误之处的资料",
            "not enough information to locate the data or see what is inaccurate",
            "未獲提供足以找出資料或確定錯誤之處的資料",
        ),
    ),
    _ground(
        "repeated_request",
        "PDPO s.20(3)(c)",
        ACCESS,
        Text(
            "此前已有两次或以上类似请求，再次依从并不合理",
            "follows two or more similar requests and compliance is unreasonable",
            "此前已有兩次或以上類似要求，再次依從並不合理",
        ),
    ),
    _ground(
        "other_data_user_controls",
        "PDPO s.20(3)(d), s.24(3)(e)",
        BOTH,
        Text(
            "另一资料使用者控制该资料而禁止依从",
            "another data user controls the data and prohibits compliance",
            "另一資料使用者控制該資料而禁止依從",
        ),
    ),
    _ground(
        "exempt_under_part_8",
        "PDPO s.20(3)(ea), s.20(3)(f); Part 8",
        ACCESS,
        Text(
            "依条例第8部豁免或其他条例容许拒绝",
            "exempt under Part 8 or another Ordinance",
            "依條例第8部豁免或其他條例容許拒絕",
        ),
    ),
    _ground(
        "not_satisfied_inaccurate",
        "PDPO s.24(3)(b)",
        CORRECTION,
        Text("不信纳有关资料不准确", "not satisfied that the data are inaccurate", "不信納有關資料不準確"),
    ),
    _ground(
        "correction_not_accurate",
        "PDPO s.24(3)(d)",
        CORRECTION,
        Text(
            "不信纳所要求的更正准确",
            "not satisfied that the requested correction is accurate",
            "不信納所要求的更正準確",
        ),
    ),
)

_PCPD = "PCPD Guidance on Data Breach Handling and Data Breach Notifications"

NOTICE_ELEMENTS: tuple[NoticeElement, ...] = (
    NoticeElement(
        "categories",
        Text("涉及的个人资料类别", "kinds of personal data involved", "涉及的個人資料類別"),
        _PCPD,
    ),
    NoticeElement(
        "cause", Text("事故的起因及经过", "cause and circumstances of the breach", "事故的起因及經過"), _PCPD
    ),
    NoticeElement("possible_harm", Text("可能造成的损害", "harm that may result", "可能造成的損害"), _PCPD),
    NoticeElement(
        "measures_taken",
        Text(
            "已采取或将采取的控制及补救措施",
            "containment and remedial measures",
            "已採取或將採取的控制及補救措施",
        ),
        _PCPD,
    ),
    NoticeElement(
        "what_individuals_can_do",
        Text(
            "受影响人士可采取的保障措施",
            "what affected people can do to protect themselves",
            "受影響人士可採取的保障措施",
        ),
        _PCPD,
    ),
    NoticeElement(
        "remedies",
        Text("为受影响人士提供的协助", "help offered to the people affected", "為受影響人士提供的協助"),
        _PCPD,
    ),
    NoticeElement(
        "contact",
        Text("资料使用者的联络方法", "the data user's contact details", "資料使用者的聯絡方法"),
        _PCPD,
    ),
)

# PDPO imposes no breach-notification deadline; PCPD only recommends notifying "as soon as practicable".
INCIDENT_CLOCKS: tuple[IncidentClock, ...] = ()

PACK = RulePack(
    jurisdiction=Jurisdiction.HK,
    name=Text("香港", "Hong Kong", "香港"),
    deadline=deadline,
    refusal_grounds=REFUSAL_GROUNDS,
    legal_bases=(),  # PDPO has no closed list of lawful bases; LegalBasis models PIPL art. 13 only
    minor_age=18,
    minor_age_citation=(
        "PDPO s.2 'relevant person' (parental responsibility for a minor); Cap. 1 s.3 (minor: under 18); "
        "PCPD children's privacy guidance"
    ),
    notice_elements=NOTICE_ELEMENTS,
    incident_clocks=INCIDENT_CLOCKS,
)
