"""Every user-facing string exists in English, Simplified and Traditional Chinese, and every key used exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from landups import catalogue
from landups.i18n import Lang, negotiate
from landups.messages import MESSAGES, translate
from landups.policyfacts import PolicyFacts
from landups.settings import DEFAULT_POLICY, HERE

TEMPLATES = HERE / "templates"
SOURCES = list(HERE.rglob("*.py"))


def test_every_message_has_three_different_scripts() -> None:
    for key, text in MESSAGES.items():
        assert text.en and text.zh and text.zh_tw, key
        placeholders = {lang: set(re.findall(r"{(\w+)}", text.get(lang))) for lang in Lang}
        assert len({frozenset(p) for p in placeholders.values()}) == 1, f"{key}: placeholders differ {placeholders}"


def _template_keys() -> set[str]:
    keys: set[str] = set()
    for path in TEMPLATES.rglob("*.html"):
        keys |= set(re.findall(r"\bt\('([a-z_.\-]+[a-z])'", path.read_text(encoding="utf-8")))
        keys |= {f"field.{n}" for n in re.findall(r'(?:field|select)\("([a-z_]+)"', path.read_text(encoding="utf-8"))}
        keys |= set(re.findall(r'hint="([a-z_.]+)"', path.read_text(encoding="utf-8")))
    return keys


def _source_keys() -> set[str]:
    keys: set[str] = set()
    for path in SOURCES:
        keys |= set(re.findall(r'"(err\.[a-z_]+)"', path.read_text(encoding="utf-8")))
    return keys


def test_every_key_used_is_translated() -> None:
    missing = sorted((_template_keys() | _source_keys()) - MESSAGES.keys())
    assert not missing, f"no translation for {missing}"


def test_every_field_an_error_can_name_has_a_label() -> None:
    fields: set[str] = set()
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        fields |= set(re.findall(r'errors\["([a-z_]+)"\]', text))
        fields |= set(re.findall(r'errors\.check\("([a-z_]+)"', text))
        fields |= set(re.findall(r'ValidationFailed\(\{"([a-z_]+)"', text))
        fields |= set(re.findall(r'\.check\(form\.files\.get\("[a-z_]+"\), "([a-z_]+)"', text))
    missing = sorted(f"field.{f}" for f in fields if f"field.{f}" not in MESSAGES)
    assert not missing


def test_dynamic_labels_exist_in_every_language() -> None:
    dynamic = [f"lang.{lang.value}" for lang in Lang]
    dynamic += [f"status.{s}" for s in ("pending", "verified", "rejected", "submitted", "with_agent", "active",
                                        "awaiting_provider", "provisioning", "requested", "dispatched", "delivered",
                                        "completed", "approved")]
    dynamic += [f"level.{level}" for level in ("standard", "silver", "gold", "enterprise")]
    dynamic += [f"outcome.{o}" for o in ("success", "failure", "locked")]
    dynamic += [f"device.{d}" for d in ("desktop", "mobile", "tablet", "bot")]
    dynamic += ["privacy.reason.charter_not_connected", "privacy.action.grant", "privacy.action.refuse",
                "privacy.action.withdraw", "survey.console-2024", "survey.support-2024"]
    assert not [k for k in dynamic if k not in MESSAGES]


def test_catalogue_and_policy_labels_are_trilingual() -> None:
    for product in catalogue.PRODUCTS:
        for text in (product.name, product.spec):
            assert all(text.get(lang) for lang in Lang)
    facts = PolicyFacts.load(DEFAULT_POLICY)
    for purpose in facts.purposes.values():
        assert all(purpose.label.get(lang) for lang in Lang)


@pytest.mark.parametrize(("header", "lang"), [
    ("zh-HK,zh;q=0.9", Lang.ZH_TW), ("zh-TW", Lang.ZH_TW), ("zh-Hant-HK", Lang.ZH_TW), ("zh-CN,en;q=0.5", Lang.ZH_CN),
    ("en-GB,en;q=0.9", Lang.EN), ("fr-FR, zh-HK;q=0.8, en;q=0.9", Lang.EN), ("fr-FR", Lang.EN), (None, Lang.EN),
])
def test_negotiate(header: str | None, lang: Lang) -> None:
    assert negotiate(header) is lang


def test_translate_fills_placeholders() -> None:
    assert translate("footer.policy_version", Lang.ZH_TW, version="v1") == "私隱政策版本 v1"


def test_templates_directory_is_where_the_app_looks() -> None:
    assert (TEMPLATES / "base.html").is_file()
    assert Path(DEFAULT_POLICY).is_file()
