"""The optional features of policy 2.3-2.5 (LAN-COLLECT-OPTIONAL): cloud market orders, membership upgrade,
offline delivery and product testing. Each form collects only what its purpose's categories name, and only
when the person uses it."""

from __future__ import annotations

import secrets
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from landups.catalogue import TERMS, Product, product
from landups.db import utcnow
from landups.forms import FieldErrors, Form, ValidationFailed, clean_future_date, clean_int
from landups.identifiers import clean_contact, clean_text
from landups.models import CloudOrder, MembershipApplication, OfflineDelivery, ProductTest, User

LEVELS = ("standard", "silver", "gold", "enterprise")


def _contact(form: Form, errors: FieldErrors) -> tuple[str, str]:
    person = errors.check("contact_person", lambda v: clean_text(v, max_length=100), form.text("contact_person"))
    info = errors.check("contact_info", clean_contact, form.text("contact_info"))
    return person, info


def _address(form: Form, errors: FieldErrors) -> str:
    return errors.check("address", lambda v: clean_text(v, max_length=300), form.text("address"))


def _product(form: Form, errors: FieldErrors) -> Product | None:
    found = product(form.text("sku"))
    if found is None:
        errors["sku"] = "err.choice"
    return found


class MarketService:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- cloud market (purpose cloud_market) --------------------------------------------------------------

    def place_order(self, user: User, form: Form) -> tuple[CloudOrder, Product]:
        """A third-party product also needs the separate consent to share (purpose share_third_parties): the
        box is unticked by default and the caller records the choice with Charter."""
        errors = FieldErrors()
        item = _product(form, errors)
        term = errors.check("term_months", lambda v: clean_int(v, 1, 36), form.text("term_months"))
        if "term_months" not in errors and term not in TERMS:
            errors["term_months"] = "err.choice"
        quantity = errors.check("quantity", lambda v: clean_int(v, 1, 20), form.text("quantity"))
        person, info = _contact(form, errors)
        if item is not None and item.is_third_party and form.raw("share_consent") != "yes":
            errors["share_consent"] = "err.share_consent"
        errors.raise_if_any()
        if item is None:   # _product() recorded the error; this only tells the type checker
            raise ValidationFailed({"sku": "err.choice"})
        order = CloudOrder(order_no=self._order_no(), user_id=user.id, sku=item.sku, term_months=term,
                           quantity=quantity, amount_cents=item.monthly_cents * term * quantity,
                           provider=item.provider, contact_person=person, contact_info=info,
                           status="awaiting_provider" if item.is_third_party else "active", placed_at=utcnow())
        self.session.add(order)
        self.session.flush()
        return order, item

    def _order_no(self) -> str:
        while True:
            candidate = "CM" + utcnow().strftime("%y%m") + secrets.token_hex(4).upper()
            if self.session.scalar(select(CloudOrder.id).where(CloudOrder.order_no == candidate)) is None:
                return candidate

    def orders(self, user: User) -> list[CloudOrder]:
        return list(self.session.scalars(
            select(CloudOrder).where(CloudOrder.user_id == user.id).order_by(CloudOrder.placed_at.desc())))

    def order(self, user: User, order_id: int) -> CloudOrder | None:
        return self.session.scalar(select(CloudOrder).where(CloudOrder.id == order_id, CloudOrder.user_id == user.id))

    # -- offline delivery (purpose offline_delivery) ------------------------------------------------------

    def request_delivery(self, user: User, form: Form, today: date) -> OfflineDelivery:
        errors = FieldErrors()
        order_id = errors.check("order_id", lambda v: clean_int(v, 1, 2**31 - 1), form.text("order_id"))
        order = self.order(user, order_id) if "order_id" not in errors else None
        item = product(order.sku) if order else None
        if "order_id" not in errors and (order is None or item is None or not item.offers_offline_delivery):
            errors["order_id"] = "err.not_deliverable"
        person, info = _contact(form, errors)
        address = _address(form, errors)
        when = errors.check("preferred_date", lambda v: clean_future_date(v, today), form.text("preferred_date"))
        notes = errors.check("notes", lambda v: clean_text(v, max_length=500, required=False), form.text("notes"))
        errors.raise_if_any()
        delivery = OfflineDelivery(user_id=user.id, order_id=order_id, contact_person=person, contact_info=info,
                                   address=address, preferred_date=when, notes=notes, requested_at=utcnow())
        self.session.add(delivery)
        self.session.flush()
        return delivery

    def deliveries(self, user: User) -> list[OfflineDelivery]:
        return list(self.session.scalars(
            select(OfflineDelivery).where(OfflineDelivery.user_id == user.id)
            .order_by(OfflineDelivery.requested_at.desc())))

    # -- product testing (purpose product_testing) --------------------------------------------------------

    def request_test(self, user: User, form: Form, today: date) -> ProductTest:
        errors = FieldErrors()
        item = _product(form, errors)
        if item is not None and not item.offers_testing:
            errors["sku"] = "err.not_testable"
        person, info = _contact(form, errors)
        address = _address(form, errors)
        when = errors.check("preferred_date", lambda v: clean_future_date(v, today), form.text("preferred_date"))
        description = errors.check("description", lambda v: clean_text(v, max_length=1000),
                                   form.text("description"))
        errors.raise_if_any()
        if item is None:   # _product() recorded the error; this only tells the type checker
            raise ValidationFailed({"sku": "err.choice"})
        test = ProductTest(user_id=user.id, sku=item.sku, contact_person=person, contact_info=info, address=address,
                           preferred_date=when, description=description, requested_at=utcnow())
        self.session.add(test)
        self.session.flush()
        return test

    def tests(self, user: User) -> list[ProductTest]:
        return list(self.session.scalars(
            select(ProductTest).where(ProductTest.user_id == user.id).order_by(ProductTest.requested_at.desc())))

    # -- membership upgrade (purpose membership) ----------------------------------------------------------

    def apply_upgrade(self, user: User, form: Form) -> MembershipApplication:
        errors = FieldErrors()
        target = form.text("to_level")
        if target not in LEVELS or LEVELS.index(target) <= LEVELS.index(user.membership_level):
            errors["to_level"] = "err.level"
        if self.open_upgrade(user) is not None:
            errors["to_level"] = "err.upgrade_pending"
        person, info = _contact(form, errors)
        errors.raise_if_any()
        application = MembershipApplication(user_id=user.id, from_level=user.membership_level, to_level=target,
                                            contact_person=person, contact_info=info, applied_at=utcnow())
        self.session.add(application)
        self.session.flush()
        return application

    def open_upgrade(self, user: User) -> MembershipApplication | None:
        return self.session.scalar(select(MembershipApplication).where(
            MembershipApplication.user_id == user.id, MembershipApplication.status == "submitted"))

    def upgrades(self, user: User) -> list[MembershipApplication]:
        return list(self.session.scalars(
            select(MembershipApplication).where(MembershipApplication.user_id == user.id)
            .order_by(MembershipApplication.applied_at.desc())))

    def approve_upgrade(self, application: MembershipApplication) -> None:
        user = self.session.get(User, application.user_id)
        if user is None or application.status != "submitted":
            raise ValidationFailed({"form": "err.choice"})
        application.status = "approved"
        user.membership_level = application.to_level
