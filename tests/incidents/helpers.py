"""An incident on the test estate, and a notice carrying every element the minimal (CN) policy requires."""

from __future__ import annotations

import datetime as dt
from typing import Any

from charter.core.i18n import Text
from charter.incidents import IncidentIn
from tests.retention.estate import NOW

CN_ELEMENTS = {
    "categories": Text("电子邮箱、IP地址", "Email addresses and IP addresses"),
    "cause": Text("访问日志备份被错误地公开", "A backup of the visit logs was made public by mistake"),
    "possible_harm": Text("可能收到钓鱼邮件", "You may receive phishing email"),
    "measures_taken": Text("已删除公开的备份并轮换密钥", "We removed the backup and rotated the keys"),
    "what_individuals_can_do": Text("请警惕可疑邮件", "Be wary of unexpected email"),
    "remedies": Text("提供一年的免费身份保护服务", "A year of free identity protection"),
}


def incident_in(**changes: Any) -> IncidentIn:
    values: dict[str, Any] = {
        "title": "Visit-log backup exposed", "found_by": "Security on-call", "location": "Backup bucket, Shanghai",
        "discovered_at": NOW - dt.timedelta(hours=2), "description": "A backup bucket was public for a day.",
        "categories": ["contact.email", "device.ip"], "systems": ["logs_db"], "people_estimate": 4,
        "police_informed": False, "occurred_until": NOW, "is_significant": True}
    values.update(changes)
    return IncidentIn(**values)


def elements_json(**changes: Any) -> dict[str, dict[str, str]]:
    out = {code: {"zh": t.zh, "en": t.en} for code, t in CN_ELEMENTS.items()}
    out.update(changes)
    return {k: v for k, v in out.items() if v is not None}
