"""Accounts: registration, login (with its records), profile, browser sessions, and login and page-view records."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from landups.db import utcnow
from landups.forms import FieldErrors, Form, ValidationFailed
from landups.i18n import Lang
from landups.identifiers import clean_email, clean_phone, clean_text
from landups.models import LoginEvent, PageView, StaffMember, User, WebSession
from landups.usage import ClientInfo

PASSWORDS = PasswordHasher()   # argon2id, the library's current defaults
_DUMMY_HASH = PASSWORDS.hash("not a password anyone has")
SESSION_DAYS = 30              # the policy's strictly necessary cookie lasts 30 days (purpose cookies_necessary)
LOCK_AFTER = 5                 # failed logins within LOCK_WINDOW lock the account for that window
LOCK_WINDOW = timedelta(minutes=15)
MIN_PASSWORD = 10


def hash_password(password: str) -> str:
    return PASSWORDS.hash(password)


def password_matches(stored: str, password: str) -> bool:
    try:
        return PASSWORDS.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def clean_password(password: str, errors: FieldErrors, field: str = "password") -> str:
    if len(password) < MIN_PASSWORD:
        errors[field] = "err.password_short"
    elif len(password) > 200:
        errors[field] = "err.too_long"
    return password


@dataclass(frozen=True)
class Registration:
    email: str
    password: str
    name: str
    phone: str | None
    account_type: str
    language: Lang
    choices: dict[str, bool]   # consent purpose -> ticked


def parse_registration(form: Form, consent_purposes: list[str], default_language: Lang) -> Registration:
    """Validate the registration form; raises ValidationFailed naming every bad field."""
    errors = FieldErrors()
    email = errors.check("email", clean_email, form.text("email"))
    password = clean_password(form.raw("password"), errors)
    if form.raw("password_again") != password and "password" not in errors:
        errors["password_again"] = "err.password_mismatch"  # noqa: S105 - a message key, not a password
    name = errors.check("name", lambda v: clean_text(v, max_length=100), form.text("name"))
    phone_raw = form.text("phone")
    phone = errors.check("phone", clean_phone, phone_raw) if phone_raw else None
    account_type = form.text("account_type") or "personal"
    if account_type not in ("personal", "company"):
        errors["account_type"] = "err.choice"
    if form.raw("accept_policy") != "yes":
        errors["accept_policy"] = "err.accept_policy"
    language = Lang.parse(form.text("language")) or default_language
    errors.raise_if_any()
    choices = {p: form.raw(f"consent_{p}") == "yes" for p in consent_purposes}
    return Registration(email=email, password=password, name=name, phone=phone, account_type=account_type,
                        language=language, choices=choices)


class AccountService:
    def __init__(self, session: Session) -> None:
        self.session = session

    def register(self, reg: Registration, policy_version: str) -> User:
        if self.session.scalar(select(User.id).where(func.lower(User.email) == reg.email.lower())) is not None:
            raise ValidationFailed({"email": "err.email_taken"})
        user = User(account_id=self._new_account_id(), email=reg.email, password_hash=hash_password(reg.password),
                    name=reg.name, phone=reg.phone, account_type=reg.account_type, language=reg.language.value,
                    policy_version=policy_version)
        self.session.add(user)
        self.session.flush()
        return user

    def _new_account_id(self) -> str:
        while True:
            candidate = "LU" + "".join(secrets.choice("0123456789") for _ in range(10))
            if self.session.scalar(select(User.id).where(User.account_id == candidate)) is None:
                return candidate

    def authenticate(self, email: str, password: str, client: ClientInfo) -> tuple[User | None, LoginEvent | None]:
        """The user if the password is right and the account not locked; the login event recorded either way
        (none when no account has that email: there is no one to record it for)."""
        user = self.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
        if user is None:
            password_matches(_DUMMY_HASH, password)   # same time whether or not the email exists
            return None, None
        if self._recent_failures(user.id) >= LOCK_AFTER:
            return None, self._record_login(user, "locked", client)
        if not password_matches(user.password_hash, password):
            return None, self._record_login(user, "failure", client)
        if PASSWORDS.check_needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        return user, self._record_login(user, "success", client)

    def record_sign_in(self, user: User, client: ClientInfo) -> LoginEvent:
        """Registration signs the new account in: recorded like any other login."""
        return self._record_login(user, "success", client)

    def _recent_failures(self, user_id: int) -> int:
        since = utcnow() - LOCK_WINDOW
        last_success = self.session.scalar(
            select(func.max(LoginEvent.occurred_at)).where(LoginEvent.user_id == user_id,
                                                           LoginEvent.outcome == "success"))
        if last_success is not None and last_success > since:
            since = last_success
        return self.session.scalar(
            select(func.count()).select_from(LoginEvent).where(
                LoginEvent.user_id == user_id, LoginEvent.outcome.in_(("failure", "locked")),
                LoginEvent.occurred_at > since)) or 0

    def _record_login(self, user: User, outcome: str, client: ClientInfo) -> LoginEvent:
        event = LoginEvent(user_id=user.id, outcome=outcome, ip=client.ip, browser=client.browser,
                           language=client.language, os=client.os, device=client.device,
                           user_agent=client.user_agent, occurred_at=utcnow())
        self.session.add(event)
        self.session.flush()
        return event

    def owner_of(self, event: LoginEvent) -> User:
        user = self.session.get(User, event.user_id)
        if user is None:
            raise LookupError(f"login event {event.id} has no account")
        return user

    def record_page_view(self, user: User, path: str, client: ClientInfo) -> None:
        self.session.add(PageView(user_id=user.id, path=path[:200], ip=client.ip, browser=client.browser,
                                  language=client.language, occurred_at=utcnow()))

    def login_records(self, user: User, limit: int = 50) -> list[LoginEvent]:
        return list(self.session.scalars(
            select(LoginEvent).where(LoginEvent.user_id == user.id)
            .order_by(LoginEvent.occurred_at.desc(), LoginEvent.id.desc()).limit(limit)))

    def page_views(self, user: User, limit: int = 50) -> list[PageView]:
        return list(self.session.scalars(
            select(PageView).where(PageView.user_id == user.id)
            .order_by(PageView.occurred_at.desc(), PageView.id.desc()).limit(limit)))

    def update_profile(self, user: User, form: Form) -> None:
        errors = FieldErrors()
        name = errors.check("name", lambda v: clean_text(v, max_length=100), form.text("name"))
        phone_raw, qq_raw, address_raw = form.text("phone"), form.text("qq"), form.text("address")
        phone = errors.check("phone", clean_phone, phone_raw) if phone_raw else None
        if qq_raw and not (qq_raw.isascii() and qq_raw.isdigit() and 5 <= len(qq_raw) <= 12):
            errors["qq"] = "err.qq"
        address = errors.check("address", lambda v: clean_text(v, max_length=300), address_raw) \
            if address_raw else None
        language = Lang.parse(form.text("language"))
        if language is None:
            errors["language"] = "err.choice"
        errors.raise_if_any()
        user.name, user.phone, user.qq, user.address = name, phone, qq_raw or None, address
        user.language = language.value if language else user.language


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


class SessionStore:
    """Server-side sessions: the browser holds a random token; this table its hash, who, and when it expires."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def find(self, token: str | None) -> WebSession | None:
        if not token:
            return None
        row = self.session.scalar(select(WebSession).where(WebSession.token_hash == _token_hash(token)))
        if row is None or row.expires_at < utcnow():
            return None
        return row

    def start(self, *, user: User | None = None, staff: StaffMember | None = None) -> str:
        """A fresh token (never the pre-login one, so a planted session id is useless)."""
        token = secrets.token_urlsafe(32)
        self.session.execute(delete(WebSession).where(WebSession.expires_at < utcnow()))
        self.session.add(WebSession(token_hash=_token_hash(token), user_id=user.id if user else None,
                                    staff_id=staff.id if staff else None,
                                    expires_at=utcnow() + timedelta(days=SESSION_DAYS)))
        return token

    def end(self, token: str | None) -> None:
        if token:
            self.session.execute(delete(WebSession).where(WebSession.token_hash == _token_hash(token)))
