"""“You may also like”: personalised only with consent, from favourites/downloads/purchase requests (never
footprints), with a non-personalised alternative, and recorded as an automated decision."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from lubpur.models import CharterReport, Product
from lubpur.recommendations import Features, rank
from tests.examples.lubpur.factories import post, register, user_by_email


def _f(pid: int, category: str, grade: str = "46", specs: tuple[str, ...] = (), brand: str = "A") -> Features:
    return Features(pid, category, brand, grade, frozenset(specs))


def test_ranking_prefers_the_same_category_grade_and_specifications() -> None:
    sources = [(_f(1, "hydraulic", "ISO VG 46", ("DIN 51524-2 HLP",)), 2.0)]
    candidates = [_f(2, "grease", "NLGI 2", brand="B"), _f(3, "hydraulic", "ISO VG 68"),
                  _f(4, "hydraulic", "ISO VG 46", ("DIN 51524-2 HLP",)), _f(1, "hydraulic", "ISO VG 46")]
    assert rank(sources, candidates, exclude={1}, k=3) == [4, 3]


def _section(html: str) -> str:
    start = html.index('id="recommendations"')
    cards = html.index('<ul class="cards">', start)
    return html[cards:html.index("</ul>", cards)]


def test_without_consent_everyone_gets_the_same_non_personalised_list(web: TestClient, db: Session) -> None:
    form = register(web)
    post(web, "/products/300/favourite", csrf_from="/products/300")
    home = web.get("/").text
    assert 'data-personalised="no"' in home
    anonymous = TestClient(web.app).get("/").text
    assert _section(home) == _section(anonymous)
    user = user_by_email(db, form["email"])
    assert db.scalars(select(CharterReport).where(CharterReport.user_id == user.id,
                                                  CharterReport.kind == "automated_decision")).first() is None


def test_with_consent_the_list_follows_favourites_and_is_recorded(web: TestClient, db: Session) -> None:
    form = register(web, personalisation="yes")
    grease = db.scalars(select(Product).where(Product.category == "grease").order_by(Product.id)).first()
    assert grease is not None
    post(web, f"/products/{grease.id}/favourite", csrf_from=f"/products/{grease.id}")
    home = web.get("/").text
    assert 'data-personalised="yes"' in home and "猜您喜欢" in home
    assert _section(home).count("润滑脂") >= 6
    user = user_by_email(db, form["email"])
    query = select(CharterReport).where(CharterReport.user_id == user.id, CharterReport.kind == "automated_decision")
    reports = db.scalars(query.order_by(CharterReport.id)).all()
    report = reports[-1]  # the product page's "also like" was the one before
    assert report.payload["inputs"]["favourites"] == [grease.id]
    assert report.payload["logic_version"] == "lubpur-reco-1" and len(report.payload["outputs"]) == 8
    web.get("/")  # same inputs, same outcome: not recorded twice
    db.expire_all()
    assert len(db.scalars(query).all()) == len(reports)


def test_footprints_never_feed_recommendations(web: TestClient, db: Session) -> None:
    register(web, personalisation="yes")
    for pid in (301, 302, 303):
        web.get(f"/products/{pid}")
    assert 'data-personalised="no"' in web.get("/").text


def test_opting_out_switches_personalisation_off_at_once(web: TestClient, db: Session) -> None:
    register(web, personalisation="yes")
    post(web, "/products/40/favourite", csrf_from="/products/40")
    assert 'data-personalised="yes"' in web.get("/").text
    post(web, "/me/privacy", {"purpose": "personalisation", "choice": "no"}, csrf_from="/me/privacy")
    assert 'data-personalised="no"' in web.get("/").text
    post(web, "/me/privacy", {"purpose": "personalisation", "choice": "yes"}, csrf_from="/me/privacy")
    assert 'data-personalised="yes"' in web.get("/").text
