"""zh-CN (default) and en. Every user-facing string lives in `lubpur.messages` in both languages."""

from __future__ import annotations

from typing import Final

from lubpur.messages import MESSAGES

LANGS: Final = ("zh-CN", "en")
DEFAULT_LANG: Final = "zh-CN"


def parse_lang(value: str | None) -> str:
    if value and value.lower().startswith("en"):
        return "en"
    return DEFAULT_LANG


def t(key: str, lang: str, **values: object) -> str:
    """The message `key` in `lang`, with `{name}` placeholders filled in."""
    zh, en = MESSAGES[key]
    text = en if lang == "en" else zh
    return text.format(**values) if values else text


def pick(lang: str, zh: str, en: str) -> str:
    """For data that carries both languages itself (product names, policy labels)."""
    return en if lang == "en" else zh
