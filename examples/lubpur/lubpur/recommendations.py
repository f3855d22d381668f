"""“猜您喜欢 / You may also like”.

Personalised only when `Privacy.decide(subject, "personalisation")` allows it, and built only from what the policy's
personalisation purpose declares: favourites, downloads and purchase requests. Footprints (browsing history) are
sensitive under GB/T 35273 and the policy keeps them out of this purpose, so they are never an input here.
Otherwise, and for everyone who opts out, the list is the same for all: the most favourited and downloaded
products (PIPL art. 24: an option not based on personal characteristics). Each personalised list is reported to
Charter as an automated decision with its inputs, so it can be explained.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lubpur.models import Download, Favourite, Product, PurchaseRequest
from lubpur.privacy import Privacy, Subject

WEIGHTS = {"favourites": 2.0, "purchase_requests": 2.0, "downloads": 1.0}


@dataclass(frozen=True)
class Features:
    id: int
    category: str
    brand: str
    grade: str
    specs: frozenset[str]


@dataclass(frozen=True)
class Recommendations:
    products: list[Product]
    is_personalised: bool


def score(candidate: Features, sources: list[tuple[Features, float]]) -> float:
    """Similarity to what the person showed interest in: category, then grade, shared specifications, brand."""
    total = 0.0
    for source, weight in sources:
        s = 3.0 * (candidate.category == source.category) + 2.0 * (candidate.grade == source.grade)
        s += 1.0 * len(candidate.specs & source.specs) + 0.5 * (candidate.brand == source.brand)
        total += weight * s
    return total


def rank(sources: list[tuple[Features, float]], candidates: list[Features], exclude: set[int], k: int) -> list[int]:
    scored = [(score(c, sources), -c.id, c.id) for c in candidates if c.id not in exclude]
    scored = [row for row in scored if row[0] > 0]
    scored.sort(reverse=True)
    return [cid for _, _, cid in scored[:k]]


def _features(p: Product) -> Features:
    return Features(p.id, p.category, p.brand, p.grade, frozenset(p.specs))


def _inputs(session: Session, user_id: int) -> dict[str, list[int]]:
    fav = session.scalars(select(Favourite.product_id).where(Favourite.user_id == user_id)
                          .order_by(Favourite.id.desc()).limit(20))
    dls = session.scalars(select(Download.product_id).where(Download.user_id == user_id)
                          .order_by(Download.id.desc()).limit(20))
    prs = session.scalars(select(PurchaseRequest.product_id).where(PurchaseRequest.user_id == user_id,
                                                                   PurchaseRequest.product_id.is_not(None))
                          .order_by(PurchaseRequest.id.desc()).limit(20))
    return {"favourites": sorted(set(fav)), "downloads": sorted(set(dls)),
            "purchase_requests": sorted({p for p in prs if p is not None})}


def popular(session: Session, k: int = 6, exclude: set[int] | None = None) -> list[Product]:
    counts: Counter[int] = Counter()
    for pid, n in session.execute(select(Favourite.product_id, func.count()).group_by(Favourite.product_id)):
        counts[pid] += 2 * n
    for pid, n in session.execute(select(Download.product_id, func.count()).group_by(Download.product_id)):
        counts[pid] += n
    skip = exclude or set()
    ids = [pid for pid, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if pid not in skip][:k]
    if len(ids) < k:
        # Nothing popular yet: the first product of each category, in turn.
        firsts = select(func.min(Product.id)).group_by(Product.category)
        ids += [pid for pid in session.scalars(firsts) if pid not in ids and pid not in skip][: k - len(ids)]
    rows = {p.id: p for p in session.scalars(select(Product).where(Product.id.in_(ids)))}
    return [rows[i] for i in ids if i in rows]


def for_subject(session: Session, privacy: Privacy, subject: Subject, *, k: int = 6,
                exclude: set[int] | None = None) -> Recommendations:
    skip = set(exclude or ())
    if subject.user_id is None or not privacy.decide(subject, "personalisation").is_allowed:
        return Recommendations(popular(session, k, skip), is_personalised=False)
    inputs = _inputs(session, subject.user_id)
    source_ids = {pid for ids in inputs.values() for pid in ids}
    if not source_ids:
        return Recommendations(popular(session, k, skip), is_personalised=False)
    products = {p.id: p for p in session.scalars(select(Product))}
    sources = [(_features(products[pid]), WEIGHTS[kind]) for kind, ids in inputs.items() for pid in ids
               if pid in products]
    chosen = rank(sources, [_features(p) for p in products.values()], skip | set(inputs["favourites"]), k)
    privacy.report_automated_decision(subject, kind="recommendation", inputs=inputs, outputs=chosen)
    return Recommendations([products[i] for i in chosen], is_personalised=True)
