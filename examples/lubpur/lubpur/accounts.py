"""Registration (with guardian consent for minors), login with login records, sessions, suspension, profile."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError
from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from lubpur import points, validate
from lubpur.db import utcnow
from lubpur.errors import InputError, NotFound
from lubpur.i18n import t
from lubpur.mailer import OutgoingMail
from lubpur.models import GuardianConsent, LoginRecord, Staff, User, WebSession
from lubpur.privacy import Evidence, Guardian, Privacy, Subject, subject_of
from lubpur.security import hash_password, new_token, token_hash, verify_password

SESSION_DAYS = 14
RELATIONSHIPS = ("father", "mother", "guardian")
AVATAR_MAX_BYTES = 1_000_000
AVATAR_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}


@dataclass(frozen=True)
class Registration:
    email: str
    phone: str
    password: str
    name: str
    company: str
    birth_date: str
    policy_version: str
    is_policy_accepted: bool
    wants_personalisation: bool
    guardian_name: str = ""
    guardian_relationship: str = ""
    guardian_email: str = ""
    guardian_phone: str = ""


@dataclass(frozen=True)
class Registered:
    user: User
    mails: list[OutgoingMail]
    needs_guardian: bool


def register(session: Session, privacy: Privacy, form: Registration, evidence: Evidence,
             base_url: str) -> Registered:
    """Check everything first; nothing is stored unless all of it is right."""
    policy = privacy.policy()
    if not form.is_policy_accepted:
        raise InputError("err.accept_policy", "accept_policy")
    if form.policy_version != policy.version:
        raise InputError("err.policy_changed", "accept_policy", version=policy.version)
    email = validate.email(form.email)
    phone = validate.phone(form.phone)
    validate.password(form.password)
    name = validate.text(form.name, "name", max_len=100)
    company = validate.text(form.company, "company", max_len=200, required=False)
    born = validate.birth_date(form.birth_date)
    is_minor = validate.age_on(born, dt.date.today()) < policy.minor_age_threshold
    guardian = _guardian(form, email) if is_minor else None
    taken = session.scalars(select(User.id).where(or_(User.email == email, User.phone == phone))).first()
    if taken is not None:
        raise InputError("err.account_exists", "email")
    now = utcnow()
    user = User(email=email, phone=phone, password_hash=hash_password(form.password), name=name, company=company,
                age_band="minor" if is_minor else "adult", birth_date=born if is_minor else None,
                status="pending_guardian" if is_minor else "active", policy_version=policy.version,
                policy_accepted_at=now, lang=evidence.lang)
    session.add(user)
    session.flush()
    subject = subject_of(user)
    privacy.record_policy_acceptance(subject, evidence)
    privacy.record_choice(subject, "personalisation", is_granted=form.wants_personalisation, evidence=evidence)
    if guardian is None:
        points.award(session, user.id, "welcome")
        return Registered(user, [], needs_guardian=False)
    token = new_token()
    session.add(GuardianConsent(user_id=user.id, guardian_name=guardian.name, relationship=guardian.relationship,
                                guardian_email=guardian.email, guardian_phone=guardian.phone,
                                token_hash=token_hash(token)))
    session.flush()
    return Registered(user, [_guardian_mail(guardian, user, token, base_url, evidence.lang)], needs_guardian=True)


def _guardian(form: Registration, minor_email: str) -> Guardian:
    name = validate.text(form.guardian_name, "guardian_name", max_len=100)
    if form.guardian_relationship not in RELATIONSHIPS:
        raise InputError("err.relationship", "guardian_relationship")
    email = validate.email(form.guardian_email, "guardian_email")
    if email == minor_email:
        raise InputError("err.guardian_same_email", "guardian_email")
    phone = validate.phone(form.guardian_phone, "guardian_phone")
    return Guardian(name=name, relationship=form.guardian_relationship, email=email, phone=phone)


def _guardian_mail(guardian: Guardian, user: User, token: str, base_url: str, lang: str) -> OutgoingMail:
    link = f"{base_url}/guardian/confirm?token={token}"
    return OutgoingMail(to=guardian.email, subject=t("mail.guardian.subject", lang),
                        text=t("mail.guardian.body", lang, guardian=guardian.name, minor=user.name, link=link))


def pending_guardian_consent(session: Session, token: str) -> tuple[GuardianConsent, User]:
    consent = session.scalars(select(GuardianConsent).where(GuardianConsent.token_hash == token_hash(token))).first()
    if consent is None or consent.confirmed_at is not None:
        raise NotFound
    user = session.get(User, consent.user_id)
    if user is None:
        raise NotFound
    return consent, user


def confirm_guardian_consent(session: Session, privacy: Privacy, token: str, evidence: Evidence) -> User:
    consent, user = pending_guardian_consent(session, token)
    consent.confirmed_at = utcnow()
    consent.confirm_ip = evidence.ip
    consent.confirm_user_agent = evidence.user_agent[:300]
    user.status = "active"
    guardian = Guardian(consent.guardian_name, consent.relationship, consent.guardian_email, consent.guardian_phone)
    privacy.record_guardian_consent(subject_of(user), guardian, evidence)
    points.award(session, user.id, "welcome")
    return user


def authenticate(session: Session, privacy: Privacy, login: str, password: str, evidence: Evidence) -> User:
    """Email or phone plus password. Every attempt on an existing account leaves a login record."""
    login = login.strip()
    key = login.lower() if "@" in login else _phone_or_blank(login)
    user = session.scalars(select(User).where(or_(User.email == key, User.phone == key))).first() if key else None
    is_ok = verify_password(user.password_hash if user else None, password)
    if user is None:
        raise InputError("err.login", "login")
    session.add(LoginRecord(user_id=user.id, ip=evidence.ip, user_agent=evidence.user_agent[:300], succeeded=is_ok))
    privacy.report_login(subject_of(user), evidence, succeeded=is_ok)
    session.flush()
    if not is_ok:
        raise InputError("err.login", "login")
    if user.status == "suspended":
        raise InputError("err.suspended", "login")
    if user.status == "cancelled":
        raise InputError("err.cancelled", "login")
    if user.status == "pending_guardian":
        raise InputError("err.pending_guardian", "login")
    return user


def _phone_or_blank(value: str) -> str:
    try:
        return validate.phone(value)
    except InputError:
        return ""


def authenticate_staff(session: Session, email: str, password: str) -> Staff:
    staff = session.scalars(select(Staff).where(Staff.email == email.strip().lower())).first()
    if not verify_password(staff.password_hash if staff else None, password) or staff is None:
        raise InputError("err.login", "email")
    return staff


def open_session(session: Session, *, user_id: int | None = None, staff_id: int | None = None) -> str:
    token = new_token()
    session.add(WebSession(token_hash=token_hash(token), user_id=user_id, staff_id=staff_id,
                           expires_at=utcnow() + dt.timedelta(days=SESSION_DAYS)))
    session.flush()
    return token


def session_for(session: Session, token: str) -> WebSession | None:
    if not token:
        return None
    found = session.scalars(select(WebSession).where(WebSession.token_hash == token_hash(token))).first()
    if found is None or found.expires_at < utcnow():
        return None
    return found


def close_session(session: Session, token: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_hash == token_hash(token)))


def suspend_for_unauthorised_use(session: Session, privacy: Privacy, user: User, password: str) -> None:
    """LUB-ACCOUNT-SECURITY: the person reports unauthorised use; service stops and every session ends."""
    if not verify_password(user.password_hash, password):
        raise InputError("err.password_wrong", "password")
    user.status = "suspended"
    user.suspended_at = utcnow()
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    privacy.report_suspension(subject_of(user), reason="reported_unauthorised_use")


def accept_current_policy(session: Session, privacy: Privacy, user: User, version: str, evidence: Evidence) -> None:
    policy = privacy.policy()
    if version != policy.version:
        raise InputError("err.policy_changed", "accept_policy", version=policy.version)
    user.policy_version = policy.version
    user.policy_accepted_at = utcnow()
    privacy.record_policy_acceptance(subject_of(user), evidence)


@dataclass(frozen=True)
class Profile:
    name: str
    phone: str
    wechat: str
    qq: str
    address: str
    company: str
    company_address: str
    position: str


def update_profile(session: Session, user: User, form: Profile) -> bool:
    """Returns whether this completed the profile for the first time (which earns points)."""
    name = validate.text(form.name, "name", max_len=100)
    phone = validate.phone(form.phone)
    wechat = validate.text(form.wechat, "wechat", max_len=64, required=False)
    qq = validate.digits(form.qq, "qq", max_len=12)
    address = validate.text(form.address, "address", max_len=300, required=False)
    company = validate.text(form.company, "company", max_len=200, required=False)
    company_address = validate.text(form.company_address, "company_address", max_len=300, required=False)
    position = validate.text(form.position, "position", max_len=100, required=False)
    if phone != user.phone:
        clash = session.scalars(select(User.id).where(User.phone == phone, User.id != user.id)).first()
        if clash is not None:
            raise InputError("err.phone_taken", "phone")
    user.name, user.phone, user.wechat, user.qq = name, phone, wechat, qq
    user.address, user.company, user.company_address, user.position = address, company, company_address, position
    is_complete = all([wechat or qq, address, company, company_address, position])
    if is_complete and not points.has_award(session, user.id, "profile_complete"):
        points.award(session, user.id, "profile_complete")
        return True
    return False


def set_avatar(user: User, data: bytes) -> None:
    if not data:
        raise InputError("err.avatar_missing", "avatar")
    if len(data) > AVATAR_MAX_BYTES:
        raise InputError("err.avatar_size", "avatar")
    try:
        with Image.open(io.BytesIO(data)) as img:
            kind = img.format or ""
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise InputError("err.avatar_type", "avatar") from exc
    if kind not in AVATAR_TYPES:
        raise InputError("err.avatar_type", "avatar")
    user.avatar = data
    user.avatar_type = AVATAR_TYPES[kind]


def change_password(user: User, current: str, new: str) -> None:
    if not verify_password(user.password_hash, current):
        raise InputError("err.password_wrong", "current_password")
    validate.password(new, "new_password")
    user.password_hash = hash_password(new)


def login_records(session: Session, user_id: int, limit: int = 20) -> list[LoginRecord]:
    query = (select(LoginRecord).where(LoginRecord.user_id == user_id)
             .order_by(LoginRecord.id.desc()).limit(limit))
    return list(session.scalars(query))


def subject_for(user: User | None, email: str = "") -> Subject:
    return subject_of(user) if user else Subject(email=email)
