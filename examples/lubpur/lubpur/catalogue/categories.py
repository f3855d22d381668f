"""The five product categories, with their names in both languages."""

from __future__ import annotations

from typing import Final

CATEGORIES: Final[dict[str, tuple[str, str]]] = {
    "engine_oil": ("发动机油", "Engine oils"),
    "gear_oil": ("齿轮油", "Gear oils"),
    "hydraulic": ("液压油", "Hydraulic fluids"),
    "grease": ("润滑脂", "Greases"),
    "metalworking": ("金属加工液", "Metalworking fluids"),
}


def category_name(category: str, lang: str) -> str:
    zh, en = CATEGORIES[category]
    return en if lang == "en" else zh
