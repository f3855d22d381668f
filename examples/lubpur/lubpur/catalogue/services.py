"""Reading the catalogue, seeding it, and the things people do with products: favourites, footprints, downloads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from lubpur.catalogue import search
from lubpur.catalogue.categories import CATEGORIES
from lubpur.catalogue.generate import generate_products
from lubpur.db import utcnow
from lubpur.errors import InputError, NotFound
from lubpur.models import Download, Favourite, Footprint, Product

PAGE_SIZE = 24


def seed_catalogue(session: Session) -> int:
    """Insert the generated catalogue if the table is empty; returns how many products there are."""
    count = session.scalar(select(func.count(Product.id))) or 0
    if count == 0:
        session.execute(insert(Product), list(generate_products()))
        count = session.scalar(select(func.count(Product.id))) or 0
    search.reindex(session.connection())
    return count


@dataclass(frozen=True)
class Page:
    products: list[Product]
    total: int
    page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def browse(session: Session, *, query: str = "", category: str = "", page: int = 1) -> Page:
    if category and category not in CATEGORIES:
        raise InputError("err.category", "category")
    page = max(1, page)
    if query.strip():
        ids = search.search_ids(session, query, category=category or None)
        chosen = ids[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
        rows = {p.id: p for p in session.scalars(select(Product).where(Product.id.in_(chosen)))}
        return Page([rows[i] for i in chosen if i in rows], len(ids), page)
    where = [Product.category == category] if category else []
    total = session.scalar(select(func.count(Product.id)).where(*where)) or 0
    query_rows = select(Product).where(*where).order_by(Product.id).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    return Page(list(session.scalars(query_rows)), total, page)


def product(session: Session, product_id: int) -> Product:
    found = session.get(Product, product_id)
    if found is None:
        raise NotFound
    return found


def find(session: Session, product_id: str) -> Product | None:
    return session.get(Product, int(product_id)) if product_id.strip().isdigit() else None


def as_dict(p: Product) -> dict[str, Any]:
    return {c.name: getattr(p, c.name) for c in Product.__table__.columns}


def record_view(session: Session, user_id: int, product_id: int) -> None:
    row = session.scalars(select(Footprint).where(Footprint.user_id == user_id,
                                                  Footprint.product_id == product_id)).first()
    if row is None:
        session.add(Footprint(user_id=user_id, product_id=product_id))
    else:
        row.views += 1
        row.last_viewed_at = utcnow()
    session.flush()


def footprints(session: Session, user_id: int) -> list[tuple[Footprint, Product]]:
    query = (select(Footprint, Product).join(Product, Product.id == Footprint.product_id)
             .where(Footprint.user_id == user_id).order_by(Footprint.last_viewed_at.desc()))
    return [(f, p) for f, p in session.execute(query).all()]


def delete_footprint(session: Session, user_id: int, footprint_id: int) -> None:
    result = session.execute(delete(Footprint).where(Footprint.id == footprint_id, Footprint.user_id == user_id))
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NotFound


def clear_footprints(session: Session, user_id: int) -> None:
    session.execute(delete(Footprint).where(Footprint.user_id == user_id))


def is_favourite(session: Session, user_id: int, product_id: int) -> bool:
    query = select(Favourite.id).where(Favourite.user_id == user_id, Favourite.product_id == product_id)
    return session.scalars(query).first() is not None


def add_favourite(session: Session, user_id: int, product_id: int) -> None:
    product(session, product_id)
    if not is_favourite(session, user_id, product_id):
        session.add(Favourite(user_id=user_id, product_id=product_id))
        session.flush()


def remove_favourite(session: Session, user_id: int, product_id: int) -> None:
    session.execute(delete(Favourite).where(Favourite.user_id == user_id, Favourite.product_id == product_id))


def favourites(session: Session, user_id: int) -> list[tuple[Favourite, Product]]:
    query = (select(Favourite, Product).join(Product, Product.id == Favourite.product_id)
             .where(Favourite.user_id == user_id).order_by(Favourite.created_at.desc(), Favourite.id.desc()))
    return [(f, p) for f, p in session.execute(query).all()]


def record_download(session: Session, user_id: int | None, product_id: int, lang: str) -> None:
    session.add(Download(user_id=user_id, product_id=product_id, lang=lang))
    session.flush()


def downloads(session: Session, user_id: int) -> list[tuple[Download, Product]]:
    query = (select(Download, Product).join(Product, Product.id == Download.product_id)
             .where(Download.user_id == user_id).order_by(Download.id.desc()).limit(50))
    return [(d, p) for d, p in session.execute(query).all()]
