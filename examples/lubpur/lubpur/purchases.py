"""采购留言 and the purchase panel (我的采购面板)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from lubpur import points, validate
from lubpur.db import utcnow
from lubpur.errors import InputError, NotFound
from lubpur.models import Product, PurchaseRequest, User

UNITS = ("L", "kg", "drum", "pail", "ibc", "carton")
STATUSES = ("submitted", "quoted", "closed")


@dataclass(frozen=True)
class PurchaseForm:
    product_id: str
    product_text: str
    quantity: str
    unit: str
    delivery_city: str
    message: str
    contact_name: str
    contact_phone: str
    contact_email: str
    contact_company: str
    is_contact_third_party: bool
    is_third_party_attested: bool


def create(session: Session, user: User, form: PurchaseForm) -> PurchaseRequest:
    """LUB-THIRD-PARTY-INFO: a contact other than the user needs the user's attestation of that person's consent."""
    product_id = int(form.product_id) if form.product_id.strip().isdigit() else None
    product = session.get(Product, product_id) if product_id else None
    if product_id and product is None:
        raise InputError("err.product", "product_id")
    product_text = validate.text(form.product_text or (product.name_zh if product else ""), "product_text",
                                 max_len=200)
    quantity = validate.positive_int(form.quantity, "quantity", maximum=1_000_000)
    if form.unit not in UNITS:
        raise InputError("err.unit", "unit")
    city = validate.text(form.delivery_city, "delivery_city", max_len=100)
    message = validate.text(form.message, "message", max_len=2000, required=False)
    name = validate.text(form.contact_name, "contact_name", max_len=100)
    phone = validate.phone(form.contact_phone, "contact_phone")
    email = validate.email(form.contact_email, "contact_email", required=False)
    company = validate.text(form.contact_company, "contact_company", max_len=200, required=False)
    # Whatever the box says, a phone or email that is not the user's own is someone else's.
    is_third_party = form.is_contact_third_party or phone != user.phone or email not in ("", user.email)
    if is_third_party and not form.is_third_party_attested:
        raise InputError("err.third_party_attest", "third_party_attested")
    request = PurchaseRequest(
        user_id=user.id, product_id=product.id if product else None, product_text=product_text, quantity=quantity,
        unit=form.unit, delivery_city=city, message=message, contact_name=name, contact_phone=phone,
        contact_email=email, contact_company=company, is_contact_third_party=is_third_party,
        third_party_attested_at=utcnow() if is_third_party else None)
    session.add(request)
    session.flush()
    points.award(session, user.id, "purchase_request", reference=f"purchase_request:{request.id}")
    return request


def mine(session: Session, user_id: int) -> list[PurchaseRequest]:
    query = select(PurchaseRequest).where(PurchaseRequest.user_id == user_id).order_by(PurchaseRequest.id.desc())
    return list(session.scalars(query))


def delete_mine(session: Session, user_id: int, request_id: int) -> None:
    result = session.execute(delete(PurchaseRequest).where(PurchaseRequest.id == request_id,
                                                            PurchaseRequest.user_id == user_id))
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NotFound


def all_requests(session: Session, limit: int = 100) -> list[PurchaseRequest]:
    return list(session.scalars(select(PurchaseRequest).order_by(PurchaseRequest.id.desc()).limit(limit)))


def reply(session: Session, request_id: int, text: str) -> PurchaseRequest:
    request = session.get(PurchaseRequest, request_id)
    if request is None:
        raise NotFound
    request.staff_reply = validate.text(text, "reply", max_len=2000)
    request.status = "quoted"
    return request


def about_contact(session: Session, *, email: str = "", phone: str = "") -> list[PurchaseRequest]:
    """Requests naming this person as the contact: how a third party's own request finds what others gave us."""
    who = [c for c in (PurchaseRequest.contact_email == email if email else None,
                       PurchaseRequest.contact_phone == phone if phone else None) if c is not None]
    if not who:
        return []
    return list(session.scalars(select(PurchaseRequest).where(or_(*who)).order_by(PurchaseRequest.id)))
