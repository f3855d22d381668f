# ruff: noqa: E501 - the product-line table reads better one line per field
"""A realistic catalogue of a few hundred lubricants, generated the same way every time.

Brands are fictional; grades and specifications are the real industry systems (SAE J300/J306, ISO 3448 VG,
NLGI, API, ACEA, ILSAC, DIN 51517/51524/51825, ISO 6743, AGMA 9005, OEM approvals).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from lubpur.catalogue.categories import CATEGORIES

SEED = 20230516

BRANDS: list[tuple[str, str]] = [
    ("超润", "Lubpur"), ("润峰", "RunFeng"), ("海岳", "Haiyue"), ("驰锐", "Chirui"),
    ("科沃", "Kewo"), ("北极星", "Polaris Lube"), ("泰博", "Tribon"), ("诺德", "Nordlube"),
]

BASE_OILS: dict[str, tuple[str, str]] = {
    "synthetic": ("全合成", "Fully synthetic"),
    "semi_synthetic": ("半合成", "Semi-synthetic"),
    "mineral": ("矿物型", "Mineral"),
    "pao": ("PAO合成", "PAO synthetic"),
    "water_based": ("水基", "Water-based"),
}


@dataclass(frozen=True)
class Line:
    """A product line: what varies across its grades is the grade itself."""

    category: str
    code: str
    zh: str
    en: str
    grade_system: str
    grades: tuple[str, ...]
    specs: tuple[str, ...]
    base_oils: tuple[str, ...]
    apps_zh: str
    apps_en: str
    packaging: tuple[str, ...]
    extra_specs: tuple[str, ...] = field(default=())


LINES: list[Line] = [
    Line("engine_oil", "PCMO", "乘用车发动机油", "Passenger car motor oil", "SAE",
         ("0W-20", "0W-30", "5W-30", "5W-40", "10W-40"), ("API SP", "ILSAC GF-6A"), ("synthetic", "semi_synthetic"),
         "汽油乘用车、涡轮增压直喷(GDI)发动机、混合动力车型", "Gasoline passenger cars, turbocharged direct-injection (GDI) "
         "engines, hybrids", ("1 L", "4 L", "18 L", "200 L"), ("ACEA C3", "ACEA A3/B4", "VW 504 00/507 00")),
    Line("engine_oil", "HDEO", "重负荷柴油机油", "Heavy-duty diesel engine oil", "SAE",
         ("10W-30", "10W-40", "15W-40", "20W-50"), ("API CK-4", "API CI-4"), ("synthetic", "semi_synthetic", "mineral"),
         "重型卡车、工程机械、客车柴油发动机,满足国六排放后处理", "Heavy trucks, construction machinery and bus diesel "
         "engines with China VI after-treatment", ("4 L", "18 L", "200 L", "1000 L IBC"),
         ("ACEA E9", "ACEA E6", "Cummins CES 20086", "Volvo VDS-4.5")),
    Line("engine_oil", "GEO", "燃气发动机油", "Gas engine oil", "SAE",
         ("15W-40", "40"), ("API CF",), ("mineral", "synthetic"),
         "天然气发电机组、压缩机驱动燃气发动机、LNG重卡", "Natural-gas gensets, compressor-drive gas engines, LNG trucks",
         ("18 L", "200 L"), ("MWM TR 2105", "Caterpillar CG260")),
    Line("engine_oil", "MCO", "摩托车四冲程机油", "4-stroke motorcycle oil", "SAE",
         ("10W-40", "15W-50", "20W-50"), ("API SN", "JASO MA2"), ("synthetic", "semi_synthetic"),
         "四冲程摩托车发动机、湿式离合器", "Four-stroke motorcycle engines with wet clutches", ("1 L", "4 L")),
    Line("gear_oil", "AGO", "车辆齿轮油", "Automotive gear oil", "SAE",
         ("75W-90", "80W-90", "85W-140"), ("API GL-5",), ("synthetic", "mineral"),
         "驱动桥、差速器、手动变速箱(准双曲面齿轮)", "Drive axles, differentials and manual gearboxes with hypoid gears",
         ("1 L", "4 L", "18 L", "200 L"), ("API MT-1", "MAN 342 M3", "ZF TE-ML 05A")),
    Line("gear_oil", "IGO", "工业闭式齿轮油", "Industrial enclosed gear oil", "ISO VG",
         ("100", "150", "220", "320", "460", "680"), ("DIN 51517-3 CLP", "AGMA 9005-F16"), ("mineral", "pao"),
         "钢铁、水泥、矿山行业的工业闭式齿轮箱、减速机", "Enclosed industrial gearboxes and reducers in steel, cement and "
         "mining", ("18 L", "200 L", "1000 L IBC"), ("ISO 12925-1 CKD", "Flender approved")),
    Line("gear_oil", "WGO", "蜗轮蜗杆油", "Worm gear oil", "ISO VG",
         ("220", "320", "460"), ("DIN 51517-3 CLP PG", "ISO 12925-1 CKE"), ("synthetic",),
         "蜗轮蜗杆减速机、高滑动比齿轮", "Worm-gear reducers and high-sliding gears", ("18 L", "200 L")),
    Line("hydraulic", "HM", "抗磨液压油", "Anti-wear hydraulic oil", "ISO VG",
         ("22", "32", "46", "68", "100"), ("ISO 11158 HM", "DIN 51524-2 HLP"), ("mineral",),
         "注塑机、机床、工程机械液压系统", "Hydraulic systems of injection moulding machines, machine tools and "
         "construction machinery", ("18 L", "200 L", "1000 L IBC"), ("Denison HF-0", "Eaton E-FDGN-TB002-E")),
    Line("hydraulic", "HV", "低温抗磨液压油", "Low-temperature hydraulic oil", "ISO VG",
         ("15", "22", "32", "46", "68"), ("ISO 11158 HV", "DIN 51524-3 HVLP"), ("mineral", "synthetic"),
         "寒区户外设备、高低温温差大的液压系统", "Outdoor equipment in cold regions and systems with wide temperature "
         "swings", ("18 L", "200 L")),
    Line("hydraulic", "ZF", "无灰抗磨液压油", "Zinc-free hydraulic oil", "ISO VG",
         ("32", "46", "68"), ("DIN 51524-2 HLP", "ISO 15380 HEES"), ("synthetic", "mineral"),
         "含银部件液压泵、环境敏感场所", "Pumps with silver components and environmentally sensitive sites",
         ("18 L", "200 L")),
    Line("hydraulic", "HFC", "水-乙二醇难燃液压液", "Water-glycol fire-resistant fluid", "ISO VG",
         ("46",), ("ISO 12922 HFC", "Factory Mutual approved"), ("water_based",),
         "压铸机、冶金连铸、煤矿井下等有火灾风险的液压系统", "Die-casting, continuous casting and underground mining "
         "hydraulics with fire risk", ("200 L", "1000 L IBC")),
    Line("grease", "LCX", "锂基复合润滑脂", "Lithium complex grease", "NLGI",
         ("00", "0", "1", "2", "3"), ("DIN 51825 KP2N-30", "ISO 6743-9 L-XBEHB 2"), ("mineral", "synthetic"),
         "轮毂轴承、电机轴承、高温重载轴承", "Wheel-hub, electric-motor and high-temperature heavy-load bearings",
         ("400 g", "15 kg", "180 kg")),
    Line("grease", "CSX", "复合磺酸钙基润滑脂", "Calcium sulfonate complex grease", "NLGI",
         ("1", "2"), ("DIN 51825 KP2P-20", "ISO 6743-9 L-XBFIB 2"), ("mineral",),
         "钢厂连铸、造纸、潮湿及水淋工况", "Continuous casting, paper mills, wet and water-spray service",
         ("400 g", "15 kg", "180 kg")),
    Line("grease", "PU", "聚脲润滑脂", "Polyurea grease", "NLGI",
         ("2", "3"), ("DIN 51825 K2P-30",), ("synthetic", "mineral"),
         "长寿命密封轴承、电机、风机", "Long-life sealed bearings, electric motors and fans", ("400 g", "15 kg")),
    Line("grease", "LEP", "极压锂基润滑脂", "Lithium EP grease", "NLGI",
         ("0", "1", "2", "3"), ("DIN 51825 KP2K-20", "GB/T 7323"), ("mineral",),
         "工程机械、农业机械的通用轴承和底盘润滑", "General bearing and chassis lubrication on construction and farm "
         "machinery", ("400 g", "15 kg", "180 kg")),
    Line("metalworking", "SOL", "乳化切削液", "Soluble cutting fluid", "CONC",
         ("3%", "5%", "8%"), ("ISO 6743-7 MAA",), ("mineral",),
         "钢件、铸铁的车削、铣削与钻孔", "Turning, milling and drilling of steel and cast iron", ("18 L", "200 L")),
    Line("metalworking", "SEMI", "半合成切削液", "Semi-synthetic cutting fluid", "CONC",
         ("3%", "5%", "8%"), ("ISO 6743-7 MAE",), ("semi_synthetic",),
         "铝合金、钢件加工中心集中供液", "Aluminium alloy and steel machining centres on central systems",
         ("18 L", "200 L", "1000 L IBC")),
    Line("metalworking", "SYN", "全合成磨削液", "Synthetic grinding fluid", "CONC",
         ("2%", "4%"), ("ISO 6743-7 MAG",), ("water_based",),
         "外圆磨、平面磨、无心磨", "Cylindrical, surface and centreless grinding", ("18 L", "200 L")),
    Line("metalworking", "NEAT", "非水溶性切削油", "Neat cutting oil", "ISO VG",
         ("10", "22", "32"), ("ISO 6743-7 MHE", "DIN 51385 SN"), ("mineral",),
         "滚齿、拉削、深孔钻、螺纹加工", "Gear hobbing, broaching, deep-hole drilling and threading",
         ("18 L", "200 L")),
]

_SAE_KV100 = {"0W-20": 8.5, "0W-30": 10.5, "5W-30": 11.2, "5W-40": 13.8, "10W-30": 10.9, "10W-40": 14.2,
              "15W-40": 15.1, "15W-50": 18.0, "20W-50": 18.9, "40": 14.0, "75W-90": 15.5, "80W-90": 15.8,
              "85W-140": 27.0}


def _properties(line: Line, grade: str, rng: random.Random) -> dict[str, Any]:
    props: dict[str, Any] = {}
    if line.grade_system == "ISO VG":
        kv40 = float(grade) * rng.uniform(0.96, 1.04)
        props["kv40"] = round(kv40, 1)
        props["kv100"] = round(max(2.5, kv40 ** 0.62 * 0.95), 1)
    elif line.grade_system == "SAE":
        kv100 = _SAE_KV100[grade] * rng.uniform(0.97, 1.03)
        props["kv100"] = round(kv100, 1)
        props["kv40"] = round(kv100 ** 1.55 * 2.7, 1)
    if "kv40" in props:
        props["viscosity_index"] = rng.randint(95, 170)
        props["flash_point_c"] = rng.randint(200, 250)
        props["pour_point_c"] = -rng.choice([15, 18, 21, 24, 30, 36, 42])
        props["density_15c"] = round(rng.uniform(0.84, 0.89), 3)
    if line.grade_system == "NLGI":
        props["penetration_60x"] = {"00": 415, "0": 370, "1": 325, "2": 280, "3": 235}[grade] + rng.randint(-10, 10)
        props["dropping_point_c"] = rng.randint(180, 300)
        props["base_oil_kv40"] = rng.choice([100, 150, 220, 460])
    if line.grade_system == "CONC":
        props["ph_working"] = round(rng.uniform(8.6, 9.4), 1)
        props["concentration"] = grade
    return props


def _product(line: Line, grade: str, base: str, brand: tuple[str, str], *, n: int, rng: random.Random) -> dict[str, Any]:
    base_zh, base_en = BASE_OILS[base]
    grade_label = f"{line.grade_system} {grade}" if line.grade_system in ("ISO VG", "NLGI") else grade
    if line.grade_system == "CONC":
        grade_label = f"{grade} concentration"
    extra = [s for s in line.extra_specs if rng.random() < 0.6]
    specs = [*line.specs, *extra]
    name_zh = f"{brand[0]} {base_zh}{line.zh} {grade_label.replace(' concentration', '')}"
    name_en = f"{brand[1]} {line.en} {grade_label.replace(' concentration', '')}, {base_en.lower()}"
    category_zh, category_en = CATEGORIES[line.category]
    packaging = [p for p in line.packaging if rng.random() < 0.8] or [line.packaging[-1]]
    return {
        "sku": f"LP-{line.code}-{n:04d}",
        "category": line.category,
        "brand": brand[1],
        "name_zh": name_zh,
        "name_en": name_en,
        "grade": grade_label,
        "grade_system": line.grade_system,
        "base_oil": base,
        "specs": specs,
        "applications_zh": line.apps_zh,
        "applications_en": line.apps_en,
        "description_zh": f"{name_zh}采用{base_zh}基础油与高性能添加剂配制,符合 {'、'.join(specs)},适用于{line.apps_zh}。",
        "description_en": f"{name_en} is blended from {base_en.lower()} base stocks with high-performance additives, "
                          f"meets {', '.join(specs)}, for {line.apps_en[0].lower()}{line.apps_en[1:]}.",
        "packaging": packaging,
        "properties": _properties(line, grade, rng),
        "search_text": " ".join([name_zh, name_en, brand[0], brand[1], category_zh, category_en, grade_label,
                                 *specs, line.apps_zh, line.apps_en, base_zh, base_en]),
    }


def generate_products() -> Iterator[dict[str, Any]]:
    """Every product, in a fixed order; the same list on every machine."""
    rng = random.Random(SEED)  # noqa: S311 - reproducible catalogue data, not security
    n = 0
    for line in LINES:
        for grade in line.grades:
            for base in line.base_oils:
                brands = rng.sample(BRANDS, k=3 if len(line.base_oils) > 1 else 5)
                for brand in brands:
                    n += 1
                    yield _product(line, grade, base, brand, n=n, rng=rng)
