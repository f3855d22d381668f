"""The cloud market: a small, fixed catalogue of what Landups sells from its Hong Kong region."""

from __future__ import annotations

from dataclasses import dataclass

from landups.i18n import Text

LANDUPS = "landups"
MARKETPLACE_PROVIDER = "marketplace-provider-example"   # the policy's 1.2 third party (independent controller)
TERMS = (1, 12, 36)


@dataclass(frozen=True)
class Product:
    sku: str
    name: Text
    spec: Text
    monthly_cents: int
    provider: str = LANDUPS
    offers_offline_delivery: bool = False
    offers_testing: bool = False
    related: tuple[str, ...] = ()

    @property
    def is_third_party(self) -> bool:
        return self.provider != LANDUPS


PRODUCTS: tuple[Product, ...] = (
    Product("ecs.s1", Text("Cloud server S1", "云服务器 S1", "雲伺服器 S1"),
            Text("2 vCPU · 4 GiB memory · 60 GiB SSD · Hong Kong", "2 vCPU · 4 GiB 内存 · 60 GiB SSD · 香港",
                 "2 vCPU · 4 GiB 記憶體 · 60 GiB SSD · 香港"),
            16_800, offers_testing=True, related=("rds.m2", "cdn.5t", "mp.waf")),
    Product("ecs.c4", Text("Cloud server C4", "云服务器 C4", "雲伺服器 C4"),
            Text("4 vCPU · 16 GiB memory · 200 GiB SSD · Hong Kong", "4 vCPU · 16 GiB 内存 · 200 GiB SSD · 香港",
                 "4 vCPU · 16 GiB 記憶體 · 200 GiB SSD · 香港"),
            58_800, offers_testing=True, related=("rds.m2", "oss.1t", "mp.waf")),
    Product("rds.m2", Text("Managed MariaDB M2", "云数据库 MariaDB M2", "雲數據庫 MariaDB M2"),
            Text("2 vCPU · 8 GiB · 100 GiB storage · daily backups", "2 vCPU · 8 GiB · 100 GiB 存储 · 每日备份",
                 "2 vCPU · 8 GiB · 100 GiB 儲存 · 每日備份"),
            46_800, offers_testing=True, related=("ecs.s1", "oss.1t")),
    Product("oss.1t", Text("Object storage 1 TiB", "对象存储 1 TiB", "物件儲存 1 TiB"),
            Text("1 TiB standard storage · 3 copies in Hong Kong", "1 TiB 标准存储 · 香港三副本",
                 "1 TiB 標準儲存 · 香港三副本"),
            13_800, related=("cdn.5t", "dm.100")),
    Product("cdn.5t", Text("CDN traffic pack 5 TB", "CDN 流量包 5 TB", "CDN 流量包 5 TB"),
            Text("5 TB of CDN traffic per month", "每月 5 TB CDN 流量", "每月 5 TB CDN 流量"),
            38_800, related=("oss.1t", "mp.waf")),
    Product("pc.box", Text("Private cloud appliance", "私有云一体机", "私有雲一體機"),
            Text("1U appliance installed on your premises by our engineers", "由我们的工程师在您的场所安装的 1U 一体机",
                 "由我們的工程師在您的場所安裝的 1U 一體機"),
            280_000, offers_offline_delivery=True, offers_testing=True, related=("oss.1t",)),
    Product("dm.100", Text("Data migration appliance 100 TB", "数据迁移设备 100 TB", "數據遷移設備 100 TB"),
            Text("Shipped to you, filled, and returned to our Hong Kong data centre",
                 "寄送给您，装载数据后寄回我们的香港数据中心", "寄送給您，裝載數據後寄回我們的香港數據中心"),
            120_000, offers_offline_delivery=True, related=("oss.1t",)),
    Product("mp.waf", Text("Web application firewall (cloud market partner)", "Web 应用防火墙（云市场服务商）",
                           "Web 應用防火牆（雲市場服務商）"),
            Text("Provided by a third-party service provider under its own terms",
                 "由第三方服务商依其自身条款提供", "由第三方服務商依其自身條款提供"),
            29_800, provider=MARKETPLACE_PROVIDER, related=("ecs.s1", "cdn.5t")),
)
BY_SKU = {p.sku: p for p in PRODUCTS}


def product(sku: str) -> Product | None:
    return BY_SKU.get(sku)


def format_hkd(cents: int) -> str:
    return f"HK${cents / 100:,.2f}"
