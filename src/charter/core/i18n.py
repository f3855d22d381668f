"""Languages and bilingual text.

Every user-facing string in Charter exists at least in Simplified Chinese and English; Traditional Chinese is
optional and falls back to Simplified when absent.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from pydantic import ConfigDict


class Lang(StrEnum):
    ZH_CN = "zh-CN"
    ZH_TW = "zh-TW"
    EN = "en"

    @classmethod
    def parse(cls, value: str) -> Lang:
        """Accept `zh`, `zh-CN`, `zh_TW`, `en-GB` … and return the closest language we speak."""
        norm = value.strip().replace("_", "-").lower()
        if norm in ("zh-tw", "zh-hk", "zh-hant", "zh-mo"):
            return cls.ZH_TW
        if norm.startswith("zh"):
            return cls.ZH_CN
        if norm.startswith("en"):
            return cls.EN
        raise ValueError(f"unsupported language {value!r}: use one of zh-CN, zh-TW, en")


@dataclass(frozen=True)
class Text:
    """A string in every language Charter speaks."""

    __pydantic_config__: ClassVar[ConfigDict] = ConfigDict(extra="forbid")

    zh: str
    en: str
    zh_tw: str | None = None

    def get(self, lang: Lang | str) -> str:
        lang = Lang.parse(lang) if isinstance(lang, str) else lang
        if lang is Lang.EN:
            return self.en
        if lang is Lang.ZH_TW:
            return self.zh_tw or self.zh
        return self.zh
