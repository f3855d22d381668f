"""Mainland China: PIPL, GB/T 35273-2020 and the 2019 app-enforcement method."""

from __future__ import annotations

from datetime import date, timedelta

from charter.core.i18n import Text
from charter.jurisdictions.base import (
    ALL_KINDS,
    Deadline,
    IncidentClock,
    Jurisdiction,
    LegalBasis,
    NoticeElement,
    RefusalGround,
    RequestKind,
    RulePack,
)
from charter.jurisdictions.cn_calendar import add_working_days, last_working_day_on_or_before

WORKING_DAYS = 15
CAP_DAYS = 30
METHOD_RULE = "App Method 2019 (CAC/MIIT/MPS/SAMR) item 6: 15 working days"
CAP_RULE = "GB/T 35273-2020 §8.7: 30 days (last working day on or before day 30)"
# The 2019 method names correction, deletion and cancellation; Charter uses its shorter clock for every kind.
METHOD_KINDS = frozenset({RequestKind.RECTIFICATION, RequestKind.ERASURE, RequestKind.CANCELLATION})

FALLBACK_NOTE = Text(
    "部分日期所在年份的法定节假日安排尚未公布，按周一至周五计算工作日；公布后请重新核对。",
    "Some days fall in a year whose statutory holiday arrangement is not yet published; they were counted as "
    "Monday–Friday working days. Re-check once it is published.",
)


def _method_rule(kind: RequestKind) -> str:
    if kind in METHOD_KINDS:
        return METHOD_RULE
    return f"{METHOD_RULE} (applied by Charter to {kind}; GB/T 35273-2020 §8.7 allows 30 days)"


def deadline(received: date, kind: RequestKind) -> Deadline:
    """15 working days after receipt, but never later than the last working day within 30 calendar days."""
    worked = add_working_days(received, WORKING_DAYS)
    cap = received + timedelta(days=CAP_DAYS)
    if worked.day <= cap:
        due, rule, used_fallback = worked.day, _method_rule(kind), worked.used_fallback
    else:
        capped = last_working_day_on_or_before(cap, after=received)
        due, rule, used_fallback = capped.day, CAP_RULE, worked.used_fallback or capped.used_fallback
    note = FALLBACK_NOTE if used_fallback else None
    return Deadline(Jurisdiction.CN, due, rule, note, is_calendar_fallback=used_fallback)


def _ground(code: str, item: int, zh: str, en: str) -> RefusalGround:
    return RefusalGround(code, f"GB/T 35273-2020 §8.7, item {item}", Text(zh, en), ALL_KINDS)


REFUSAL_GROUNDS: tuple[RefusalGround, ...] = (
    _ground(
        "legal_obligation",
        1,
        "与个人信息控制者履行法律法规规定的义务相关",
        "related to the controller's legal obligations",
    ),
    _ground(
        "national_security",
        2,
        "与国家安全、国防安全直接相关",
        "directly related to national security or defence",
    ),
    _ground(
        "public_interest",
        3,
        "与公共安全、公共卫生、重大公共利益直接相关",
        "directly related to public safety, public health or a major public interest",
    ),
    _ground(
        "criminal_investigation",
        4,
        "与刑事侦查、起诉、审判和执行判决等直接相关",
        "directly related to criminal investigation, prosecution, trial or enforcement of judgments",
    ),
    _ground(
        "malice_or_abuse",
        5,
        "有充分证据表明个人信息主体存在主观恶意或滥用权利",
        "sufficient evidence that the subject acts in bad faith or abuses the right",
    ),
    _ground(
        "life_or_property",
        6,
        "出于维护个人信息主体或其他个人的生命、财产等重大合法权益但又很难得到本人授权同意",
        "protecting the life or property of the subject or others when consent is hard to obtain",
    ),
    _ground(
        "serious_harm",
        7,
        "响应请求将导致个人信息主体或其他个人、组织的合法权益受到严重损害",
        "answering would seriously harm the lawful rights of the subject or other people or organisations",
    ),
    _ground("trade_secret", 8, "涉及商业秘密", "involves trade secrets"),
)

GBT_2017_REFUSAL_CODES: frozenset[str] = frozenset(
    {
        "national_security",
        "public_interest",
        "criminal_investigation",
        "malice_or_abuse",
        "serious_harm",
        "trade_secret",
    }
)
"""The six grounds of GB/T 35273-2017 §7.11, the list the Lubpur policy still quotes."""

NOTICE_ELEMENTS: tuple[NoticeElement, ...] = (
    NoticeElement(
        "categories",
        Text("涉及的个人信息种类", "categories of personal information involved"),
        "PIPL art. 57(1)",
    ),
    NoticeElement("cause", Text("事件发生的原因", "cause of the incident"), "PIPL art. 57(1)"),
    NoticeElement("possible_harm", Text("可能造成的危害", "harm it may cause"), "PIPL art. 57(1)"),
    NoticeElement(
        "measures_taken",
        Text("已采取或将要采取的补救措施", "remedial measures taken or planned"),
        "PIPL art. 57(2); GB/T 35273-2020 §10.2",
    ),
    NoticeElement(
        "what_individuals_can_do",
        Text("个人可以采取的减轻危害的措施及自主防范建议", "what individuals can do to reduce the harm"),
        "PIPL art. 57(2); GB/T 35273-2020 §10.2",
    ),
    NoticeElement(
        "remedies",
        Text("针对个人信息主体提供的补救措施", "remedies offered to the people affected"),
        "GB/T 35273-2020 §10.2",
    ),
    NoticeElement(
        "contact",
        Text(
            "个人信息保护负责人及工作机构的联系方式", "contact of the personal-information protection officer"
        ),
        "PIPL art. 57(3); GB/T 35273-2020 §10.2",
    ),
)

_INCIDENT_RULES = (
    "CAC Measures for Reporting National Cybersecurity Incidents "
    "(国家网络安全事件报告管理办法), from 2025-11-01"
)

INCIDENT_CLOCKS: tuple[IncidentClock, ...] = (
    IncidentClock(
        "significant_incident",
        4,
        Text(
            "较大及以上网络安全事件：向属地省级网信部门报告",
            "significant incident: report to the provincial CAC",
        ),
        _INCIDENT_RULES,
    ),
    IncidentClock(
        "critical_infrastructure",
        1,
        Text(
            "关键信息基础设施发生的网络安全事件：报告",
            "incident at critical information infrastructure: report",
        ),
        _INCIDENT_RULES,
    ),
)

PACK = RulePack(
    jurisdiction=Jurisdiction.CN,
    name=Text("中国内地", "Mainland China"),
    deadline=deadline,
    refusal_grounds=REFUSAL_GROUNDS,
    legal_bases=tuple(LegalBasis),
    minor_age=14,
    minor_age_citation="PIPL art. 28, art. 31 (under 14: guardian consent)",
    notice_elements=NOTICE_ELEMENTS,
    incident_clocks=INCIDENT_CLOCKS,
)
