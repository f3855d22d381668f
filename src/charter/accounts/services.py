"""Creating controllers, staff, API keys and the web origins a controller's banner may call from;
authenticating API keys. Every change is audited."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from charter.accounts import totp
from charter.accounts.models import AllowedOrigin, ApiKey, KeyKind, Role, StaffUser
from charter.accounts.passwords import MIN_LENGTH, hash_password, verify_password
from charter.audit.services import AuditLog
from charter.core.db import utcnow
from charter.core.errors import CharterError, Conflict, Forbidden, NotFound, Unauthorized
from charter.core.models import Controller

_CONTROLLER_ID = re.compile(r"^[a-z][a-z0-9_-]{1,62}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PREFIX = {KeyKind.SECRET: "chk", KeyKind.PUBLISHABLE: "chp"}


@dataclass(frozen=True)
class IssuedKey:
    id: str
    controller_id: str
    kind: KeyKind
    token: str
    """Shown once; only its hash is stored."""


@dataclass(frozen=True)
class ApiPrincipal:
    controller_id: str
    key_id: str
    kind: KeyKind
    is_collecting: bool = True
    """False once the controller has ceased operations: collection endpoints refuse it."""


class CollectionStopped(Conflict):
    code = "collection_stopped"


def ensure_collecting(session: Session, controller_id: str) -> None:
    """Refuse new personal data for a controller that has ceased operations (LUB-SHUTDOWN)."""
    controller = session.get(Controller, controller_id)
    if controller is not None and controller.collection_stopped_at is not None:
        raise collection_stopped(controller_id)


def collection_stopped(controller_id: str) -> CollectionStopped:
    return CollectionStopped(
        f"controller {controller_id!r} has ceased operations and no longer collects or uses personal data",
        fix=f"Nothing can be recorded or decided for it any more; see /announcements/{controller_id} for what "
            "happens to the data.")


def _digest(secret: str) -> str:
    # API secrets are 256-bit random, so a fast hash is safe and keeps authentication off the hot path.
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()


class ControllerService:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.audit = AuditLog(session)

    def create(self, controller_id: str, name: str, *, actor: str) -> Controller:
        if not _CONTROLLER_ID.match(controller_id):
            raise CharterError(f"controller id {controller_id!r} is not valid", field="id",
                               fix="Use 2–63 lowercase letters, digits, '-' or '_', starting with a letter.")
        if not name.strip():
            raise CharterError("controller name is empty", field="name", fix="Give the company's name.")
        if self.session.get(Controller, controller_id) is not None:
            raise Conflict(f"controller {controller_id!r} already exists")
        controller = Controller(id=controller_id, name=name.strip(), audit_head_seq=0, audit_head_hash="")
        self.session.add(controller)
        self.session.flush()
        self.audit.record(controller_id, actor=actor, action="controller.created", target=controller_id)
        return controller

    def get(self, controller_id: str) -> Controller:
        controller = self.session.get(Controller, controller_id)
        if controller is None:
            raise NotFound(f"no controller {controller_id!r}",
                           fix="Create it with `charter controller create ID NAME`.")
        return controller

    def list(self) -> list[Controller]:
        return list(self.session.execute(select(Controller).order_by(Controller.id)).scalars())


class StaffService:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.audit = AuditLog(session)

    def create(self, controller_id: str, email: str, password: str, role: Role | str, *, actor: str) -> StaffUser:
        ControllerService(self.session).get(controller_id)
        email = email.strip().lower()
        if not _EMAIL.match(email):
            raise CharterError(f"{email!r} is not an email address", field="email")
        role = _role(role)
        if len(password) < MIN_LENGTH:
            raise CharterError(f"the password is shorter than {MIN_LENGTH} characters", field="password")
        taken = self.session.execute(
            select(StaffUser.id).where(StaffUser.controller_id == controller_id, StaffUser.email == email)
        ).first()
        if taken:
            raise Conflict("a staff account with that email already exists for this controller", field="email")
        user = StaffUser(controller_id=controller_id, email=email, password_hash=hash_password(password),
                         role=role.value, is_active=True)
        self.session.add(user)
        self.session.flush()
        self.audit.record(controller_id, actor=actor, action="staff.created", target=f"staff:{user.id}",
                          data={"role": role.value})
        return user

    def authenticate(self, controller_id: str, email: str, password: str) -> StaffUser:
        user = self.session.execute(
            select(StaffUser).where(StaffUser.controller_id == controller_id,
                                    StaffUser.email == email.strip().lower())
        ).scalar_one_or_none()
        # Verify against a dummy hash when the user is unknown so timing does not reveal who exists.
        stored = user.password_hash if user else _DUMMY_HASH
        if not verify_password(stored, password) or user is None or not user.is_active:
            raise Unauthorized("wrong email or password")
        return user

    def find(self, controller_id: str, email: str) -> StaffUser | None:
        return self.session.execute(
            select(StaffUser).where(StaffUser.controller_id == controller_id,
                                    StaffUser.email == email.strip().lower())
        ).scalar_one_or_none()

    def get(self, controller_id: str, staff_id: int) -> StaffUser:
        user = self.session.get(StaffUser, staff_id)
        if user is None or user.controller_id != controller_id:
            raise NotFound(f"no staff account {staff_id} for controller {controller_id!r}")
        return user

    def list(self, controller_id: str) -> list[StaffUser]:
        return list(self.session.execute(
            select(StaffUser).where(StaffUser.controller_id == controller_id).order_by(StaffUser.email)
        ).scalars())

    def change_role(self, controller_id: str, staff_id: int, role: Role | str, *, actor: str) -> StaffUser:
        user = self.get(controller_id, staff_id)
        new = _role(role)
        old = Role(user.role)
        if new is old:
            return user
        if old is Role.ADMIN:
            self._keep_an_admin(controller_id, leaving=user)
        user.role = new.value
        self.audit.record(controller_id, actor=actor, action="staff.role_changed", target=f"staff:{user.id}",
                          data={"from": old.value, "to": new.value})
        return user

    def deactivate(self, controller_id: str, staff_id: int, *, actor: str) -> StaffUser:
        """Deactivated accounts cannot sign in; the caller ends their open sessions too."""
        user = self.get(controller_id, staff_id)
        if not user.is_active:
            return user
        if Role(user.role) is Role.ADMIN:
            self._keep_an_admin(controller_id, leaving=user)
        user.is_active = False
        self.audit.record(controller_id, actor=actor, action="staff.deactivated", target=f"staff:{user.id}")
        return user

    def _keep_an_admin(self, controller_id: str, *, leaving: StaffUser) -> None:
        others = self.session.execute(
            select(StaffUser.id).where(StaffUser.controller_id == controller_id, StaffUser.id != leaving.id,
                                       StaffUser.role == Role.ADMIN.value, StaffUser.is_active.is_(True))
        ).first()
        if others is None:
            raise Forbidden("this is the controller's last active admin", field="role",
                            fix="Make another staff member admin first.")

    def enrol_totp(self, user: StaffUser, secret: str, code: str, *, actor: str) -> bool:
        """Keep `secret` as the second factor if `code` proves the authenticator has it."""
        step = totp.matching_step(secret, code, last_step=None)
        if step is None:
            return False
        user.totp_secret, user.totp_last_step = secret, step
        self.audit.record(user.controller_id, actor=actor, action="staff.totp_enrolled", target=f"staff:{user.id}")
        return True

    def check_totp(self, user: StaffUser, code: str) -> bool:
        """Whether `code` is a fresh, valid second-factor code; a code is accepted once only."""
        if user.totp_secret is None:
            return False
        step = totp.matching_step(user.totp_secret, code, last_step=user.totp_last_step)
        if step is None:
            return False
        user.totp_last_step = step
        return True

    def reset_totp(self, controller_id: str, email: str, *, actor: str) -> StaffUser:
        """Forget the second factor: the next sign-in enrols a new one."""
        user = self.find(controller_id, email)
        if user is None:
            raise NotFound(f"no staff account with that email for controller {controller_id!r}", field="email")
        user.totp_secret, user.totp_last_step = None, None
        self.audit.record(controller_id, actor=actor, action="staff.totp_reset", target=f"staff:{user.id}")
        return user


class ApiKeyService:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.audit = AuditLog(session)

    def create(self, controller_id: str, name: str, kind: KeyKind | str = KeyKind.SECRET,
               *, actor: str) -> IssuedKey:
        ControllerService(self.session).get(controller_id)
        try:
            kind = KeyKind(kind)
        except ValueError as exc:
            raise CharterError(f"unknown key kind {kind!r}", field="kind",
                               fix="Use 'secret' (server side) or 'publishable' (browser).") from exc
        key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
        self.session.add(ApiKey(id=key_id, controller_id=controller_id, kind=kind.value, name=name,
                                secret_hash=_digest(secret)))
        self.session.flush()
        self.audit.record(controller_id, actor=actor, action="api_key.created", target=f"api_key:{key_id}",
                          data={"kind": kind.value})
        return IssuedKey(key_id, controller_id, kind, f"{_PREFIX[kind]}_{key_id}_{secret}")

    def revoke(self, controller_id: str, key_id: str, *, actor: str) -> None:
        key = self.session.get(ApiKey, key_id)
        if key is None or key.controller_id != controller_id:
            raise NotFound(f"no API key {key_id!r} for controller {controller_id!r}")
        if key.revoked_at is None:
            key.revoked_at = utcnow()
            self.audit.record(controller_id, actor=actor, action="api_key.revoked", target=f"api_key:{key_id}")

    def list(self, controller_id: str) -> list[ApiKey]:
        return list(self.session.execute(
            select(ApiKey).where(ApiKey.controller_id == controller_id).order_by(ApiKey.created_at)
        ).scalars())

    def authenticate(self, token: str) -> ApiPrincipal:
        prefix, _, rest = token.partition("_")
        key_id, _, secret = rest.partition("_")
        if prefix not in _PREFIX.values() or not key_id or not secret:
            raise Unauthorized("malformed API key", fix="Send `Authorization: Bearer chk_…` with a key "
                               "from `charter keys create`.")
        key = self.session.get(ApiKey, key_id)
        if key is None or key.revoked_at is not None or not hmac.compare_digest(key.secret_hash, _digest(secret)):
            raise Unauthorized("unknown or revoked API key")
        controller = self.session.get(Controller, key.controller_id)
        collecting = controller is None or controller.collection_stopped_at is None
        return ApiPrincipal(key.controller_id, key.id, KeyKind(key.kind), is_collecting=collecting)


def _role(value: Role | str) -> Role:
    try:
        return Role(value)
    except ValueError as exc:
        raise CharterError(f"unknown role {value!r}", field="role",
                           fix=f"Use one of: {', '.join(r.value for r in Role)}.") from exc


_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_origin(value: str) -> str:
    """`HTTPS://Shop.Example:443/` → `https://shop.example`: scheme, host and a non-default port, nothing else."""
    text = value.strip()
    parts = urlsplit(text)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if (parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname or port == -1 or parts.username
            or parts.password or parts.path not in ("", "/") or parts.query or parts.fragment):
        raise CharterError(f"{value!r} is not a web origin", field="origin",
                           fix="Give scheme, host and optional port only, e.g. https://www.lubpur.com or "
                               "http://127.0.0.1:8080.")
    scheme = parts.scheme.lower()
    host = parts.hostname.lower()
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}" if port in (None, _DEFAULT_PORTS[scheme]) else f"{scheme}://{host}:{port}"


class OriginService:
    """The origins a controller declared for its banner: CORS answers only these, and banner calls from any
    other origin are refused."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.audit = AuditLog(session)

    def add(self, controller_id: str, origin: str, *, actor: str) -> str:
        ControllerService(self.session).get(controller_id)
        norm = normalise_origin(origin)
        if norm not in self.list(controller_id):
            self.session.add(AllowedOrigin(controller_id=controller_id, origin=norm))
            self.session.flush()
            self.audit.record(controller_id, actor=actor, action="origin.added", target=f"origin:{norm}")
        return norm

    def remove(self, controller_id: str, origin: str, *, actor: str) -> None:
        norm = normalise_origin(origin)
        row = self.session.execute(select(AllowedOrigin).where(AllowedOrigin.controller_id == controller_id,
                                                               AllowedOrigin.origin == norm)).scalar_one_or_none()
        if row is None:
            raise NotFound(f"{norm} is not an allowed origin of {controller_id!r}", field="origin",
                           fix="List them with `charter controller origins list --controller ID`.")
        self.session.delete(row)
        self.session.flush()
        self.audit.record(controller_id, actor=actor, action="origin.removed", target=f"origin:{norm}")

    def list(self, controller_id: str) -> list[str]:
        return list(self.session.execute(
            select(AllowedOrigin.origin).where(AllowedOrigin.controller_id == controller_id)
            .order_by(AllowedOrigin.origin)).scalars())

    def is_allowed(self, controller_id: str, origin: str | None) -> bool:
        if not origin:
            return False
        try:
            norm = normalise_origin(origin)
        except CharterError:
            return False
        return self.session.execute(select(AllowedOrigin.id).where(
            AllowedOrigin.controller_id == controller_id, AllowedOrigin.origin == norm)).first() is not None
