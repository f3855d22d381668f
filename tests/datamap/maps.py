"""Data maps for tests: the shop fixture, edited line by line, and a policy that declares its categories."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from charter.datamap.loader import LoadedDataMap, load_datamap_text
from charter.datamap.schema import DataMap
from charter.policy.loader import load_policy_text
from charter.policy.schema import PolicyVersion
from tests.policy.policies import edit, line_of, minimal_text

__all__ = ["SHOP", "edit", "line_of", "load", "shop", "shop_policy", "shop_policy_text", "shop_text"]

FIXTURES = Path(__file__).parent / "fixtures"
SHOP = FIXTURES / "shop.yaml"

SHOP_CATEGORIES = {
    "contact.phone": ("手机号码", "Phone number"),
    "contact.name": ("姓名", "Name"),
    "contact.address": ("地址", "Address"),
    "profile.birth_date": ("出生日期", "Date of birth"),
    "orders.history": ("订单记录", "Order history"),
    "device.ip": ("IP地址", "IP address"),
    "support.messages": ("客服记录", "Customer-service records"),
}


def shop_text(controller_id: str | None = None) -> str:
    text = SHOP.read_text(encoding="utf-8")
    return text if controller_id is None else text.replace("controller: acme", f"controller: {controller_id}", 1)


def load(text: str, source: str = "datamap.yaml") -> LoadedDataMap:
    return load_datamap_text(text, source)


def shop() -> DataMap:
    return load(shop_text()).document


def shop_policy_text(controller_id: str = "acme", *, storage: str = "CN", version: str = "1.0") -> str:
    """The minimal policy, declaring every category the shop map uses (all under the account purpose)."""
    doc: dict[str, Any] = yaml.safe_load(minimal_text())
    doc["controller"]["id"] = controller_id
    doc["version"] = version
    doc["storage_regions"] = [storage]
    for category, (zh, en) in SHOP_CATEGORIES.items():
        doc["categories"].append({"id": category, "label": {"zh": zh, "en": en}})
        doc["purposes"][0]["categories"].append(category)
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


def shop_policy(controller_id: str = "acme", *, storage: str = "CN") -> PolicyVersion:
    return load_policy_text(shop_policy_text(controller_id, storage=storage), "policy.yaml").policy


_ = (edit, line_of)
