"""European Union: GDPR, the comparison most international users know."""

from __future__ import annotations

import calendar
from datetime import date

from charter.core.i18n import Text
from charter.jurisdictions.base import (
    ALL_KINDS,
    Deadline,
    IncidentClock,
    Jurisdiction,
    NoticeElement,
    RefusalGround,
    RequestKind,
    RulePack,
)

RULE = "GDPR art. 12(3): one month"

EXTENSION_NOTE = Text(
    "如请求复杂或数量多，可再延长两个月，但须在第一个月内告知当事人并说明理由。",
    "Extendable by two further months for complex or numerous requests if the person is told, with reasons, "
    "within the first month.",
)


def add_months(day: date, months: int) -> date:
    """Same day of the month `months` later, clamped to the month's last day.

    >>> add_months(date(2024, 1, 31), 1)
    datetime.date(2024, 2, 29)
    """
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def deadline(received: date, kind: RequestKind) -> Deadline:
    return Deadline(Jurisdiction.EU, add_months(received, 1), RULE, EXTENSION_NOTE)


def _ground(code: str, citation: str, zh: str, en: str) -> RefusalGround:
    return RefusalGround(code, citation, Text(zh, en), ALL_KINDS)


_WHERE_LAW_PROVIDES = "（须有欧盟或成员国法律规定）"
_WHERE_LAW_PROVIDES_EN = " (where Union or Member State law provides)"


def _restriction(code: str, point: str, zh: str, en: str) -> RefusalGround:
    return _ground(code, f"GDPR art. 23(1)({point})", zh + _WHERE_LAW_PROVIDES, en + _WHERE_LAW_PROVIDES_EN)


REFUSAL_GROUNDS: tuple[RefusalGround, ...] = (
    _ground(
        "manifestly_unfounded_or_excessive",
        "GDPR art. 12(5)",
        "请求明显无根据或过度，尤其是重复提出",
        "the request is manifestly unfounded or excessive, in particular repetitive",
    ),
    _restriction("national_security", "a", "国家安全", "national security"),
    _restriction("defence", "b", "国防", "defence"),
    _restriction("public_security", "c", "公共安全", "public security"),
    _restriction(
        "criminal_investigation",
        "d",
        "刑事犯罪的预防、侦查、起诉或刑罚执行",
        "prevention, investigation or prosecution of crime",
    ),
    _restriction("public_interest", "e", "其他重要的公共利益", "other important public interests"),
    _restriction("judicial_independence", "f", "司法独立和司法程序", "judicial independence and proceedings"),
    _restriction(
        "regulated_professions",
        "g",
        "受规管职业的职业道德违规",
        "breaches of ethics for regulated professions",
    ),
    _restriction(
        "official_authority",
        "h",
        "行使公权力的监督、检查或规管职能",
        "monitoring, inspection or regulatory functions",
    ),
    _restriction(
        "rights_of_others",
        "i",
        "保护数据主体或他人的权利和自由",
        "protection of the data subject or others' rights",
    ),
    _restriction("civil_claims", "j", "民事请求的执行", "enforcement of civil law claims"),
)

NOTICE_ELEMENTS: tuple[NoticeElement, ...] = (
    NoticeElement(
        "nature", Text("个人数据泄露的性质", "nature of the personal data breach"), "GDPR art. 34(2)"
    ),
    NoticeElement(
        "dpo_contact",
        Text("数据保护官或其他联系人的姓名和联系方式", "name and contact of the DPO or other contact point"),
        "GDPR art. 34(2), art. 33(3)(b)",
    ),
    NoticeElement(
        "likely_consequences",
        Text("泄露可能造成的后果", "likely consequences of the breach"),
        "GDPR art. 34(2), art. 33(3)(c)",
    ),
    NoticeElement(
        "measures",
        Text(
            "已采取或拟采取的应对及减轻措施", "measures taken or proposed to address and mitigate the breach"
        ),
        "GDPR art. 34(2), art. 33(3)(d)",
    ),
)

INCIDENT_CLOCKS: tuple[IncidentClock, ...] = (
    IncidentClock(
        "authority_notification",
        72,
        Text("知悉后通知监管机构", "notify the supervisory authority after becoming aware"),
        "GDPR art. 33(1)",
    ),
)

PACK = RulePack(
    jurisdiction=Jurisdiction.EU,
    name=Text("欧盟", "European Union"),
    deadline=deadline,
    refusal_grounds=REFUSAL_GROUNDS,
    legal_bases=(),  # GDPR art. 6 (with legitimate interests) is not modelled; LegalBasis is PIPL art. 13
    minor_age=16,
    minor_age_citation="GDPR art. 8(1) (default; Member States may lower it to 13)",
    notice_elements=NOTICE_ELEMENTS,
    incident_clocks=INCIDENT_CLOCKS,
)
