"""The policy's contacts as people read them (LUB-CONTACT): the PI-protection officer first. Pure."""

from __future__ import annotations

from charter.core.i18n import Text
from charter.policy.schema import ContactKind, PolicyVersion

__all__ = ["contact_text"]

_CONTACT_ORDER = (ContactKind.PI_PROTECTION_OFFICER, ContactKind.COMPLAINTS, ContactKind.LEGAL,
                  ContactKind.CUSTOMER_SERVICE, ContactKind.PHONE, ContactKind.BUSINESS, ContactKind.POSTAL)


def contact_text(policy: PolicyVersion, *, first: int | None = None) -> Text:
    """The policy's contacts (the `first` few, or all), the PI-protection officer first, one line per language."""
    ranked = sorted(policy.controller.contacts, key=lambda c: _CONTACT_ORDER.index(c.kind))[:first]

    def line(lang: str) -> str:
        return "；".join(f"{c.label.get(lang)}：{c.value}" for c in ranked) if lang != "en" else \
            "; ".join(f"{c.label.en}: {c.value}" for c in ranked)

    return Text(zh=line("zh-CN"), en=line("en"), zh_tw=line("zh-TW"))
