"""What the person reads about their request, in every language."""

from __future__ import annotations

from charter.core.i18n import Text
from charter.jurisdictions import RequestKind

KIND_LABELS: dict[RequestKind, Text] = {
    RequestKind.ACCESS: Text(zh="查阅", en="access", zh_tw="查閱"),
    RequestKind.PORTABILITY: Text(zh="副本转移", en="data portability", zh_tw="副本轉移"),
    RequestKind.RECTIFICATION: Text(zh="更正", en="correction", zh_tw="更正"),
    RequestKind.ERASURE: Text(zh="删除", en="deletion", zh_tw="刪除"),
    RequestKind.RESTRICTION: Text(zh="限制处理", en="restriction of processing", zh_tw="限制處理"),
    RequestKind.WITHDRAWAL: Text(zh="撤回同意", en="consent withdrawal", zh_tw="撤回同意"),
    RequestKind.CANCELLATION: Text(zh="注销账户", en="account cancellation", zh_tw="註銷賬戶"),
    RequestKind.EXPLANATION: Text(zh="自动化决策说明", en="explanation of an automated decision",
                                  zh_tw="自動化決策說明"),
}

def held_line(collection: str, field: str, reason: Text) -> Text:
    return Text(zh=f"{collection}.{field}：{reason.zh}", en=f"{collection}.{field}: {reason.en}",
                zh_tw=f"{collection}.{field}：{reason.zh_tw or reason.zh}")
