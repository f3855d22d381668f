"""Real-name authentication (purpose real_name): name, ID number, ID photo; for a company its business
registration (Unified Social Credit Code). ID numbers are sealed; photos go to the PhotoVault."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from landups.crypto import Sealer
from landups.db import after_commit, utcnow
from landups.forms import FieldErrors, Form, Upload, ValidationFailed
from landups.identifiers import IdType, Invalid, clean_id_number, clean_text, clean_uscc, mask_id_number
from landups.models import DataRead, IdPhoto, RealNameRecord, StaffMember, User
from landups.photos import PhotoVault, clean_photo


class PhotoService:
    def __init__(self, session: Session, vault: PhotoVault, max_bytes: int) -> None:
        self.session = session
        self.vault = vault
        self.max_bytes = max_bytes

    def check(self, upload: Upload | None, field: str, errors: FieldErrors) -> Upload | None:
        """Validate an upload without storing it; the error (if any) goes under `field`."""
        if upload is None or (not upload.data and not upload.too_large):
            errors[field] = "err.photo_missing"
            return None
        if upload.too_large:
            errors[field] = "err.photo_too_large"
            return None
        try:
            clean_photo(upload.data, self.max_bytes)
        except Invalid as exc:
            errors[field] = exc.key
            return None
        return upload

    def store(self, user: User, upload: Upload, purpose: str) -> IdPhoto:
        image = clean_photo(upload.data, self.max_bytes)
        photo_id = uuid.uuid4().hex
        name = self.vault.put(photo_id, user.id, image)
        # If this transaction rolls back, the file is an orphan: `python -m landups sweep-files` removes it.
        photo = IdPhoto(id=photo_id, user_id=user.id, purpose=purpose, stored_name=name,
                        content_type=image.content_type, byte_size=len(image.data), width=image.width,
                        height=image.height)
        self.session.add(photo)
        self.session.flush()
        return photo

    def discard(self, photo: IdPhoto) -> None:
        """Delete the row now and the file once that is committed."""
        name = photo.stored_name
        self.session.delete(photo)
        after_commit(self.session, lambda: self.vault.delete(name))

    def read(self, photo: IdPhoto, *, staff: StaffMember | None, reason: str) -> bytes:
        """The image, after recording who read it and why (LAN-SECURITY): the owner, or a staff member."""
        self.session.add(DataRead(user_id=photo.user_id, reader="staff" if staff else "owner",
                                  staff_id=staff.id if staff else None, record=f"id_photos:{photo.id}",
                                  reason=reason[:200], read_at=utcnow()))
        self.session.flush()
        return self.vault.get(photo.stored_name, photo.id, photo.user_id)


class RealNameService:
    def __init__(self, session: Session, photos: PhotoService, fields: Sealer) -> None:
        self.session = session
        self.photos = photos
        self.fields = fields

    @staticmethod
    def context(user_id: int) -> str:
        return f"real_name_records.id_number_sealed:{user_id}"

    def current(self, user: User) -> RealNameRecord | None:
        return self.session.scalar(select(RealNameRecord).where(RealNameRecord.user_id == user.id))

    def submit(self, user: User, form: Form) -> RealNameRecord:
        existing = self.current(user)
        if existing is not None and existing.status != "rejected":
            raise ValidationFailed({"form": "err.real_name_exists"})
        errors = FieldErrors()
        full_name = errors.check("full_name", lambda v: clean_text(v, max_length=100), form.text("full_name"))
        id_type = form.text("id_type")
        if id_type not in (IdType.CN_RIC, IdType.HKID):
            errors["id_type"] = "err.id_type"
            id_number = ""
        else:
            id_number = errors.check("id_number", lambda v: clean_id_number(id_type, v), form.text("id_number"))
        company_name = uscc = None
        if user.account_type == "company":
            company_name = errors.check("company_name", lambda v: clean_text(v, max_length=200),
                                        form.text("company_name"))
            uscc = errors.check("uscc", clean_uscc, form.text("uscc"))
        upload = self.photos.check(form.files.get("id_photo"), "id_photo", errors)
        errors.raise_if_any()
        if upload is None:   # check() recorded the error; this only tells the type checker
            raise ValidationFailed({"id_photo": "err.photo_missing"})
        if existing is not None:
            old_photo = self.session.get(IdPhoto, existing.photo_id)
            self.session.delete(existing)
            self.session.flush()
            if old_photo is not None:
                self.photos.discard(old_photo)
        photo = self.photos.store(user, upload, "real_name")
        record = RealNameRecord(user_id=user.id, full_name=full_name, id_type=id_type,
                                id_number_sealed=self.fields.seal_text(id_number, self.context(user.id)),
                                photo_id=photo.id, company_name=company_name, uscc=uscc, submitted_at=utcnow())
        self.session.add(record)
        self.session.flush()
        return record

    def masked_id_number(self, record: RealNameRecord) -> str:
        return mask_id_number(self.fields.open_text(record.id_number_sealed, self.context(record.user_id)))

    def review(self, record: RealNameRecord, staff: StaffMember, approve: bool) -> None:
        record.status = "verified" if approve else "rejected"
        record.reviewed_at = utcnow()
        record.reviewed_by = staff.id

    def pending(self) -> list[RealNameRecord]:
        return list(self.session.scalars(
            select(RealNameRecord).where(RealNameRecord.status == "pending").order_by(RealNameRecord.submitted_at)))
