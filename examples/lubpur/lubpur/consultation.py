"""在线咨询: conversations between a user and customer service (staff accounts)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from lubpur import points, validate
from lubpur.db import utcnow
from lubpur.errors import NotFound
from lubpur.models import Consultation, ConsultationMessage, User


def start(session: Session, user_id: int, subject: str, body: str) -> Consultation:
    subject = validate.text(subject, "subject", max_len=200)
    body = validate.text(body, "body", max_len=4000)
    conv = Consultation(user_id=user_id, subject=subject)
    session.add(conv)
    session.flush()
    session.add(ConsultationMessage(consultation_id=conv.id, sender="user", body=body))
    if not points.has_award(session, user_id, "consultation"):
        points.award(session, user_id, "consultation", reference=f"consultation:{conv.id}")
    session.flush()
    return conv


def mine(session: Session, user_id: int) -> list[Consultation]:
    query = select(Consultation).where(Consultation.user_id == user_id).order_by(Consultation.updated_at.desc())
    return list(session.scalars(query))


def get(session: Session, consultation_id: int, *, user_id: int | None = None) -> Consultation:
    """A user sees only their own; staff (user_id None) see any."""
    conv = session.get(Consultation, consultation_id)
    if conv is None or (user_id is not None and conv.user_id != user_id):
        raise NotFound
    return conv


def messages(session: Session, consultation_id: int) -> list[ConsultationMessage]:
    query = (select(ConsultationMessage).where(ConsultationMessage.consultation_id == consultation_id)
             .order_by(ConsultationMessage.id))
    return list(session.scalars(query))


def post(session: Session, conv: Consultation, body: str, *, staff_id: int | None = None) -> ConsultationMessage:
    body = validate.text(body, "body", max_len=4000)
    msg = ConsultationMessage(consultation_id=conv.id, sender="staff" if staff_id else "user", staff_id=staff_id,
                              body=body)
    session.add(msg)
    conv.status = "answered" if staff_id else "open"
    conv.updated_at = utcnow()
    session.flush()
    return msg


def inbox(session: Session, limit: int = 100) -> list[Consultation]:
    query = select(Consultation).order_by(Consultation.status.desc(), Consultation.updated_at.desc()).limit(limit)
    return list(session.scalars(query))


def customer_names(session: Session, user_ids: set[int]) -> dict[int, str]:
    return dict(session.execute(select(User.id, User.name).where(User.id.in_(user_ids))).all())
