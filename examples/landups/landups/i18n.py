"""The three languages Landups speaks to Hong Kong users, and negotiation from the browser's Accept-Language."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Lang(StrEnum):
    EN = "en"
    ZH_CN = "zh-CN"
    ZH_TW = "zh-TW"

    @classmethod
    def parse(cls, value: str | None) -> Lang | None:
        """`zh-HK`, `zh_TW`, `zh-Hant` → zh-TW; other `zh…` → zh-CN; `en…` → en; anything else → None."""
        norm = (value or "").strip().replace("_", "-").lower()
        if norm in ("zh-tw", "zh-hk", "zh-mo") or norm.startswith("zh-hant"):
            return cls.ZH_TW
        if norm.startswith("zh"):
            return cls.ZH_CN
        if norm.startswith("en"):
            return cls.EN
        return None

    @property
    def html(self) -> str:
        return {"en": "en", "zh-CN": "zh-Hans-CN", "zh-TW": "zh-Hant-HK"}[self.value]


def negotiate(accept_language: str | None, default: Lang = Lang.EN) -> Lang:
    """The first language in the header's preference order that we speak."""
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((-quality, i, tag))
    for _, _, tag in sorted(ranked):
        lang = Lang.parse(tag)
        if lang is not None:
            return lang
    return default


@dataclass(frozen=True)
class Text:
    """One user-facing string in all three languages: none may be missing."""

    en: str
    zh: str
    zh_tw: str

    def get(self, lang: Lang) -> str:
        if lang is Lang.ZH_TW:
            return self.zh_tw
        if lang is Lang.ZH_CN:
            return self.zh
        return self.en
