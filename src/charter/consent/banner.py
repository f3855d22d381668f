"""The consent banner's server side, pure: its categories and texts from the policy, a visitor's status per
category, and which ledger events a choice turns into.

Categories are the policy's cookie categories (`Purpose.cookie_category`); a category is a choice when it holds a
purpose the person can consent to (`offers_consent`), and always on when it holds only essential ones. Texts are
in zh-CN, zh-TW and en: the controller's name and the purposes' labels come from the policy, the rest from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from charter.consent.models import ConsentStatus, EventAction
from charter.consent.terms import PolicyTerms, offers_consent
from charter.core.i18n import Lang, Text
from charter.policy.schema import CookieCategory

__all__ = ["BannerStatus", "CurrentConsent", "banner_config", "banner_status", "choice_events", "needs_prompt"]

LANGS = (Lang.ZH_CN, Lang.ZH_TW, Lang.EN)
GPC_CATEGORIES = frozenset({CookieCategory.MARKETING.value})
"""What Global Privacy Control refuses without asking: sale/sharing for advertising, i.e. marketing."""


class BannerStatus(StrEnum):
    ALWAYS = "always"
    GRANTED = "granted"
    REFUSED = "refused"
    UNSET = "unset"
    NEEDS_RECONSENT = "needs_reconsent"


@dataclass(frozen=True)
class CurrentConsent:
    status: str
    policy_hash: str


CATEGORY_TEXTS: dict[CookieCategory, tuple[Text, Text]] = {
    CookieCategory.STRICTLY_NECESSARY: (
        Text("必要 Cookie", "Strictly necessary", "必要 Cookie"),
        Text("网站运行所必需，始终开启。", "Needed for the site to work; always on.", "網站運作所必需，始終開啟。")),
    CookieCategory.PREFERENCES: (
        Text("偏好设置", "Preferences", "偏好設定"),
        Text("记住您的语言等选择并个性化内容。", "Remember choices such as your language and personalise content.",
             "記住您的語言等選擇並個人化內容。")),
    CookieCategory.ANALYTICS: (
        Text("统计分析", "Analytics", "統計分析"),
        Text("了解网站的使用情况以改进服务。", "Understand how the site is used so we can improve it.",
             "了解網站的使用情況以改進服務。")),
    CookieCategory.MARKETING: (
        Text("营销", "Marketing", "行銷"),
        Text("向您推送产品信息与优惠。", "Send you product news and offers.", "向您推送產品資訊與優惠。")),
    CookieCategory.EMAIL_TRACKING: (
        Text("邮件追踪", "Email tracking", "郵件追蹤"),
        Text("了解我们的邮件是否被打开、链接是否被点击。", "Learn whether our emails are opened and links clicked.",
             "了解我們的郵件是否被開啟、連結是否被點擊。")),
}

UI_TEXTS: dict[str, Text] = {
    "title": Text("隐私与 Cookie 选择", "Your privacy choices", "隱私與 Cookie 選擇"),
    "intro": Text("{controller}仅在您同意后使用非必要 Cookie 及相关处理。您可以随时通过页面上的链接更改选择。",
                  "{controller} uses non-essential cookies and the processing behind them only with your consent. "
                  "You can change your choice at any time from the link on the page.",
                  "{controller}僅在您同意後使用非必要 Cookie 及相關處理。您可以隨時透過頁面上的連結更改選擇。"),
    "reconsent": Text("我们的隐私政策已更新，部分用途需要您重新选择。",
                      "Our privacy policy has changed: some uses need your choice again.",
                      "我們的隱私政策已更新，部分用途需要您重新選擇。"),
    "gpc": Text("您的浏览器已开启“全球隐私控制”（GPC），营销类已为您关闭。",
                "Your browser sends Global Privacy Control (GPC): marketing stays off.",
                "您的瀏覽器已開啟「全球隱私控制」（GPC），行銷類已為您關閉。"),
    "always_on": Text("始终开启", "Always on", "始終開啟"),
    "purposes": Text("用途", "Used for", "用途"),
    "accept_all": Text("全部接受", "Accept all", "全部接受"),
    "reject_all": Text("全部拒绝", "Reject all", "全部拒絕"),
    "save": Text("保存选择", "Save choices", "儲存選擇"),
    "close": Text("关闭", "Close", "關閉"),
    "language": Text("语言", "Language", "語言"),
    "categories": Text("Cookie 类别", "Cookie categories", "Cookie 類別"),
    "receipt": Text("下载同意凭证", "Download consent receipt", "下載同意憑證"),
    "saved": Text("您的选择已保存。", "Your choice has been saved.", "您的選擇已儲存。"),
}


def _all(text: Text) -> dict[str, str]:
    return {lang.value: text.get(lang) for lang in LANGS}


def categories(terms: PolicyTerms) -> dict[str, list[str]]:
    """Cookie category → the purposes in it a person can choose, for every category the policy uses; an
    always-on category has an empty list."""
    found: dict[str, list[str]] = {}
    for purpose in terms.in_force.purposes:
        if purpose.cookie_category is None:
            continue
        chosen = found.setdefault(purpose.cookie_category.value, [])
        if offers_consent(purpose):
            chosen.append(purpose.id)
    order = [c.value for c in CookieCategory]
    return {c: found[c] for c in order if c in found}


def banner_config(terms: PolicyTerms) -> dict[str, Any]:
    policy = terms.in_force
    purposes = {p.id: p for p in policy.purposes}
    out = []
    for category, chosen in categories(terms).items():
        label, description = CATEGORY_TEXTS[CookieCategory(category)]
        members = [p for p in policy.purposes if p.cookie_category and p.cookie_category.value == category]
        out.append({"id": category, "required": not chosen, "label": _all(label), "description": _all(description),
                    "purposes": [{"id": p.id, "label": _all(p.label), "description": _all(p.description),
                                  "needs_consent": p.id in chosen} for p in members]})
    name = policy.controller.name
    texts = {key: _all(text) for key, text in UI_TEXTS.items()}
    texts["intro"] = {lang.value: UI_TEXTS["intro"].get(lang).format(controller=name.get(lang)) for lang in LANGS}
    return {"policy": {"version": terms.current.version, "hash": terms.current.content_hash},
            "controller": _all(name), "languages": [lang.value for lang in LANGS], "categories": out,
            "texts": texts, "purposes": sorted(purposes)}


def banner_status(terms: PolicyTerms, current: Mapping[str, CurrentConsent]) -> dict[str, str]:
    """The visitor's status per category, from their current consent per purpose."""
    status: dict[str, str] = {}
    for category, chosen in categories(terms).items():
        if not chosen:
            status[category] = BannerStatus.ALWAYS.value
            continue
        found = [current.get(p) for p in chosen]
        granted = [c for c in found if c is not None and c.status == ConsentStatus.GRANTED.value]
        if any(c is None for c in found):
            status[category] = BannerStatus.UNSET.value
        elif any(terms.needs_reconsent(p, c.policy_hash) for p, c in zip(chosen, found, strict=True)
                 if c is not None and c.status == ConsentStatus.GRANTED.value):
            status[category] = BannerStatus.NEEDS_RECONSENT.value
        elif len(granted) == len(chosen):
            status[category] = BannerStatus.GRANTED.value
        else:
            status[category] = BannerStatus.REFUSED.value
    return status


def needs_prompt(status: Mapping[str, str], *, gpc: bool) -> bool:
    waiting = {BannerStatus.UNSET.value, BannerStatus.NEEDS_RECONSENT.value}
    return any(s in waiting for c, s in status.items() if not (gpc and c in GPC_CATEGORIES))


def choice_events(terms: PolicyTerms, current: Mapping[str, CurrentConsent], choices: Mapping[str, bool], *,
                  gpc: bool) -> list[tuple[str, EventAction, bool]]:
    """(purpose, action, forced by GPC) for each purpose whose state the choice changes; unchanged ones are
    not written again. Under GPC, marketing is refused whatever was ticked."""
    events: list[tuple[str, EventAction, bool]] = []
    chosen_by_category = categories(terms)
    for category, is_on in choices.items():
        forced = gpc and category in GPC_CATEGORIES
        for purpose_id in chosen_by_category.get(category, []):
            action = _action(terms, purpose_id, current.get(purpose_id), is_on and not forced)
            if action is not None:
                events.append((purpose_id, action, forced))
    return events


def _action(terms: PolicyTerms, purpose_id: str, now: CurrentConsent | None, is_on: bool) -> EventAction | None:
    is_granted = now is not None and now.status == ConsentStatus.GRANTED.value
    if is_on:
        current = is_granted and now is not None and not terms.needs_reconsent(purpose_id, now.policy_hash)
        return None if current else EventAction.GRANT
    if is_granted:
        return EventAction.WITHDRAW
    if now is not None and now.status in (ConsentStatus.REFUSED.value, ConsentStatus.WITHDRAWN.value):
        return None
    return EventAction.REFUSE
