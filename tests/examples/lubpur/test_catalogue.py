"""The catalogue: generated products, full-text search in both languages, browsing, data sheets, favourites,
footprints."""

from __future__ import annotations

import re
from collections import Counter

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from lubpur.catalogue import datasheet
from lubpur.catalogue.generate import generate_products
from lubpur.catalogue.search import search_ids
from lubpur.models import Download, Favourite, Footprint, Product
from tests.examples.lubpur.factories import count, post, register, user_by_email


def test_the_catalogue_is_a_few_hundred_products_in_five_categories_and_always_the_same() -> None:
    first, second = list(generate_products()), list(generate_products())
    assert first == second
    assert 300 <= len(first) <= 500
    assert set(Counter(p["category"] for p in first)) == {"engine_oil", "gear_oil", "hydraulic", "grease",
                                                           "metalworking"}
    assert len({p["sku"] for p in first}) == len(first)
    grades = " ".join(p["grade"] for p in first)
    for expected in ("5W-30", "ISO VG 46", "NLGI 2", "85W-140"):
        assert expected in grades
    specs = {s for p in first for s in p["specs"]}
    assert {"API SP", "ACEA C3", "DIN 51524-2 HLP", "API GL-5", "DIN 51517-3 CLP"} <= specs


def test_search_finds_english_and_chinese_terms_of_any_length(db: Session) -> None:
    def names(query: str) -> list[str]:
        ids = search_ids(db, query)
        rows = {p.id: p for p in db.scalars(select(Product).where(Product.id.in_(ids)))}
        return [rows[i].search_text for i in ids]

    assert names("5W-30") and all("5W-30" in n for n in names("5W-30"))
    assert names("液压油") and all("液压油" in n for n in names("液压油"))
    assert names("机油") == [] or all("机油" in n for n in names("机油"))
    grease = names("锂基")  # two characters: below the trigram length, matched as a substring
    assert grease and all("锂基" in n for n in grease)
    both = names("hydraulic 46")
    assert both and all("46" in n and "hydraulic" in n.lower() for n in both)
    assert names("api sp") and all("API" in n and "SP" in n for n in names("api sp"))
    assert names("nonexistentlubricant") == []
    assert names("   ") == []


def test_search_and_browse_pages(web: TestClient) -> None:
    page = web.get("/products", params={"q": "齿轮油"})
    assert page.status_code == 200
    assert re.search(r"“齿轮油” 的搜索结果:\d+ 个", page.text)
    browse = web.get("/products", params={"category": "grease"})
    assert "润滑脂" in browse.text and "共 72 个产品" in browse.text
    assert web.get("/products", params={"category": "grease", "page": 2}).status_code == 200
    bad = web.get("/products", params={"category": "snake-oil"})
    assert bad.status_code == 400
    assert web.get("/products", params={"page": 0}).status_code == 422
    assert web.get("/products/999999").status_code == 404


def test_a_data_sheet_is_a_real_pdf_and_each_download_is_recorded(web: TestClient, db: Session) -> None:
    form = register(web)
    user = user_by_email(db, form["email"])
    product = db.scalars(select(Product).where(Product.category == "hydraulic")).first()
    assert product is not None
    response = web.get(f"/products/{product.id}/datasheet.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-") and response.content.rstrip().endswith(b"%%EOF")
    assert datasheet.filename(product.sku) in response.headers["content-disposition"]
    assert len(response.content) > 2000
    assert count(db, Download, Download.user_id == user.id, Download.product_id == product.id) == 1
    assert product.name_zh in web.get("/me/favourites").text  # the downloads list


def test_anonymous_downloads_are_counted_without_a_person(web: TestClient, db: Session) -> None:
    before = count(db, Download, Download.user_id.is_(None), Download.product_id == 5)
    assert web.get("/products/5/datasheet.pdf").status_code == 200
    assert count(db, Download, Download.user_id.is_(None), Download.product_id == 5) == before + 1


def test_favourites_add_and_remove(web: TestClient, db: Session) -> None:
    form = register(web)
    user = user_by_email(db, form["email"])
    added = post(web, "/products/7/favourite", {"action": "add"}, csrf_from="/products/7")
    assert added.url.path == "/products/7" and "已收藏" in added.text
    post(web, "/products/7/favourite", {"action": "add"}, csrf_from="/products/7")  # twice is once
    assert count(db, Favourite, Favourite.user_id == user.id) == 1
    name = db.get(Product, 7).name_zh  # type: ignore[union-attr]
    assert name in web.get("/me/favourites").text
    post(web, "/products/7/favourite", {"action": "remove"}, csrf_from="/products/7")
    assert count(db, Favourite, Favourite.user_id == user.id) == 0
    assert post(web, "/products/999999/favourite", csrf_from="/products/7").status_code == 404


def test_favourites_need_a_login(web: TestClient, db: Session) -> None:
    response = post(web, "/products/7/favourite", csrf_from="/products/7")
    assert response.url.path == "/login"


def test_footprints_are_recorded_listed_and_deletable(web: TestClient, db: Session) -> None:
    form = register(web)
    user = user_by_email(db, form["email"])
    for pid in (11, 12, 11):
        web.get(f"/products/{pid}")
    rows = db.scalars(select(Footprint).where(Footprint.user_id == user.id).order_by(Footprint.product_id)).all()
    assert [(r.product_id, r.views) for r in rows] == [(11, 2), (12, 1)]
    first_id = rows[0].id
    page = web.get("/me/footprints").text
    assert "浏览 2 次" in page
    post(web, f"/me/footprints/{first_id}/delete", csrf_from="/me/footprints")
    assert count(db, Footprint, Footprint.user_id == user.id) == 1
    assert post(web, f"/me/footprints/{first_id}/delete", csrf_from="/me/footprints").status_code == 404
    post(web, "/me/footprints/clear", csrf_from="/me/footprints")
    assert count(db, Footprint, Footprint.user_id == user.id) == 0


def test_anonymous_browsing_leaves_no_footprint(web: TestClient, db: Session) -> None:
    before = count(db, Footprint)
    web.get("/products/20")
    assert count(db, Footprint) == before
