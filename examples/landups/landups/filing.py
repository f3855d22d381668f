"""Website filing (purpose website_filing): the site, a contact person and the site principal's ID photo."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from landups.db import utcnow
from landups.forms import FieldErrors, Form, ValidationFailed
from landups.identifiers import clean_contact, clean_domain, clean_text
from landups.models import User, WebsiteFiling
from landups.realname import PhotoService

SITE_CATEGORIES = ("corporate", "personal", "ecommerce", "other")


class FilingService:
    def __init__(self, session: Session, photos: PhotoService) -> None:
        self.session = session
        self.photos = photos

    def submit(self, user: User, form: Form) -> WebsiteFiling:
        errors = FieldErrors()
        domain = errors.check("domain", clean_domain, form.text("domain"))
        site_name = errors.check("site_name", lambda v: clean_text(v, max_length=100), form.text("site_name"))
        category = form.text("site_category")
        if category not in SITE_CATEGORIES:
            errors["site_category"] = "err.choice"
        person = errors.check("contact_person", lambda v: clean_text(v, max_length=100), form.text("contact_person"))
        info = errors.check("contact_info", clean_contact, form.text("contact_info"))
        upload = self.photos.check(form.files.get("id_photo"), "id_photo", errors)
        errors.raise_if_any()
        if upload is None:   # check() recorded the error; this only tells the type checker
            raise ValidationFailed({"id_photo": "err.photo_missing"})
        photo = self.photos.store(user, upload, "website_filing")
        filing = WebsiteFiling(user_id=user.id, domain=domain, site_name=site_name, site_category=category,
                               contact_person=person, contact_info=info, photo_id=photo.id, submitted_at=utcnow())
        self.session.add(filing)
        self.session.flush()
        return filing

    def filings(self, user: User) -> list[WebsiteFiling]:
        return list(self.session.scalars(
            select(WebsiteFiling).where(WebsiteFiling.user_id == user.id).order_by(WebsiteFiling.submitted_at.desc())))
