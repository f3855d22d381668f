"""Product data sheets (技术数据表) as real PDF files, bilingual, the same bytes for the same product.

Chinese is set in STSong-Light, one of the CID fonts every PDF reader provides, so no font file ships with us.
"""

from __future__ import annotations

import io
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from lubpur.catalogue.categories import CATEGORIES
from lubpur.catalogue.generate import BASE_OILS

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

PROPERTY_LABELS: list[tuple[str, str, str, str]] = [
    ("kv40", "运动黏度 40°C", "Kinematic viscosity at 40 °C", "mm²/s"),
    ("kv100", "运动黏度 100°C", "Kinematic viscosity at 100 °C", "mm²/s"),
    ("viscosity_index", "黏度指数", "Viscosity index", ""),
    ("flash_point_c", "闪点(开口)", "Flash point (COC)", "°C"),
    ("pour_point_c", "倾点", "Pour point", "°C"),
    ("density_15c", "密度 15°C", "Density at 15 °C", "g/cm³"),
    ("penetration_60x", "工作锥入度 60次", "Worked penetration, 60 strokes", "0.1 mm"),
    ("dropping_point_c", "滴点", "Dropping point", "°C"),
    ("base_oil_kv40", "基础油黏度 40°C", "Base oil viscosity at 40 °C", "mm²/s"),
    ("ph_working", "工作液 pH", "pH of working solution", ""),
    ("concentration", "推荐使用浓度", "Recommended concentration", ""),
]


def filename(sku: str) -> str:
    return f"{sku}-TDS.pdf"


def render(product: dict[str, Any]) -> bytes:
    """The data sheet for one product (a dict of the `products` row's columns)."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=True, pageCompression=1)
    c.setTitle(f"{product['sku']} {product['name_en']}")
    c.setAuthor("Lubpur Trading (Shanghai) Co., Ltd.")
    width, height = A4
    y = height - 20 * mm
    c.setFillColor(colors.HexColor("#0b5d8f"))
    c.rect(0, height - 12 * mm, width, 12 * mm, stroke=0, fill=1)
    c.setFillColor(colors.white)
    c.setFont(FONT, 11)
    c.drawString(15 * mm, height - 8 * mm, "Lubpur 超润 · 产品技术数据表 Product Data Sheet")
    c.setFillColor(colors.black)
    y -= 6 * mm
    c.setFont(FONT, 15)
    c.drawString(15 * mm, y, product["name_zh"])
    y -= 7 * mm
    c.setFont(FONT, 11)
    c.drawString(15 * mm, y, product["name_en"])
    y -= 10 * mm
    cat_zh, cat_en = CATEGORIES[product["category"]]
    base_zh, base_en = BASE_OILS[product["base_oil"]]
    rows = [
        ("产品编号 SKU", product["sku"]),
        ("品牌 Brand", product["brand"]),
        ("类别 Category", f"{cat_zh} / {cat_en}"),
        ("黏度等级 Grade", product["grade"]),
        ("基础油 Base oil", f"{base_zh} / {base_en}"),
        ("规格认证 Specifications", ", ".join(product["specs"])),
        ("包装 Packaging", ", ".join(product["packaging"])),
    ]
    y = _table(c, y, rows)
    y -= 6 * mm
    y = _paragraph(c, y, "应用 Applications", [product["applications_zh"], product["applications_en"]])
    y -= 4 * mm
    y = _paragraph(c, y, "产品说明 Description", [product["description_zh"], product["description_en"]])
    y -= 4 * mm
    c.setFont(FONT, 11)
    c.drawString(15 * mm, y, "典型数据 Typical properties")
    y -= 6 * mm
    props = product["properties"]
    rows = [(f"{zh} {en}", f"{props[key]} {unit}".strip()) for key, zh, en, unit in PROPERTY_LABELS if key in props]
    y = _table(c, y, rows)
    c.setFont(FONT, 7.5)
    c.setFillColor(colors.grey)
    c.drawString(15 * mm, 15 * mm, "典型数据仅供参考,不构成产品规格。"
                 "Typical values are for reference and are not a specification.")
    c.drawString(15 * mm, 11 * mm, "超润贸易(上海)有限公司 Lubpur Trading (Shanghai) Co., Ltd. · "
                 "info@lubpur.com · 021-20247731")
    c.showPage()
    c.save()
    return buf.getvalue()


def _table(c: canvas.Canvas, y: float, rows: list[tuple[str, str]]) -> float:
    c.setFont(FONT, 9)
    for label, value in rows:
        c.setFillColor(colors.HexColor("#eef3f7"))
        c.rect(15 * mm, y - 2 * mm, 70 * mm, 6 * mm, stroke=0, fill=1)
        c.setFillColor(colors.black)
        c.drawString(17 * mm, y, label)
        c.drawString(88 * mm, y, value[:95])
        y -= 6.5 * mm
    return y


def _paragraph(c: canvas.Canvas, y: float, title: str, lines: list[str]) -> float:
    c.setFont(FONT, 11)
    c.drawString(15 * mm, y, title)
    y -= 6 * mm
    c.setFont(FONT, 9)
    for line in lines:
        for chunk in _wrap(line, 90 if line.isascii() else 46):
            c.drawString(17 * mm, y, chunk)
            y -= 5 * mm
    return y


def _wrap(line: str, width: int) -> list[str]:
    if line.isascii():
        out: list[str] = []
        current = ""
        for word in line.split():
            if len(current) + len(word) + 1 > width and current:
                out.append(current)
                current = word
            else:
                current = f"{current} {word}".strip()
        return [*out, current] if current else out
    return [line[i:i + width] for i in range(0, len(line), width)]
