"""积分: points are earned for things done on the platform; every change is a transaction with the new balance."""

from __future__ import annotations

from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from lubpur.models import PointsTransaction

AWARDS: Final[dict[str, int]] = {
    "welcome": 100,
    "purchase_request": 20,
    "profile_complete": 50,
    "consultation": 5,
}


def balance(session: Session, user_id: int) -> int:
    last = session.scalars(select(PointsTransaction.balance_after).where(PointsTransaction.user_id == user_id)
                           .order_by(PointsTransaction.id.desc()).limit(1)).first()
    return last or 0


def has_award(session: Session, user_id: int, reason: str) -> bool:
    query = select(PointsTransaction.id).where(PointsTransaction.user_id == user_id, PointsTransaction.reason == reason)
    return session.scalars(query.limit(1)).first() is not None


def award(session: Session, user_id: int, reason: str, reference: str = "") -> PointsTransaction:
    delta = AWARDS[reason]
    tx = PointsTransaction(user_id=user_id, delta=delta, balance_after=balance(session, user_id) + delta,
                           reason=reason, reference=reference)
    session.add(tx)
    session.flush()
    return tx


def history(session: Session, user_id: int) -> list[PointsTransaction]:
    query = select(PointsTransaction).where(PointsTransaction.user_id == user_id).order_by(PointsTransaction.id.desc())
    return list(session.scalars(query))
