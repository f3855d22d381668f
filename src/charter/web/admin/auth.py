"""Staff sign-in: controller, email and password, then a TOTP code (enrolled on the first sign-in).

Failed attempts are counted in the database (`RateLimiter`) per account, per address and per second-factor,
so the limits hold across workers; a locked sign-in says how long to wait. Failures render the form again
rather than raise, so the transaction that counts them commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from charter.accounts import totp
from charter.accounts.models import StaffUser
from charter.accounts.services import StaffService
from charter.audit.services import AuditLog
from charter.core.crypto import Keyring
from charter.core.errors import Unauthorized
from charter.core.models import Controller
from charter.ratelimit.services import Limit, Lockout, RateLimiter
from charter.sessions.models import WebSession
from charter.sessions.services import SessionStore
from charter.web.admin.session import (
    COOKIE,
    FULL,
    IDLE_TIMEOUT,
    KIND,
    NEEDS_CODE,
    NEEDS_ENROLMENT,
    PENDING_LIFETIME,
    SESSION_LIFETIME,
    SIGN_IN,
    session_record,
)
from charter.web.deps import PageSession
from charter.web.ui import N_, render
from charter.web.ui.cookies import clear_token, write_token

router = APIRouter()

PER_ACCOUNT = Limit("staff-sign-in", attempts=5, window=dt.timedelta(minutes=15))
PER_ADDRESS = Limit("staff-sign-in-address", attempts=50, window=dt.timedelta(minutes=15))
PER_CODE = Limit("staff-code", attempts=5, window=dt.timedelta(minutes=15))

WRONG_PASSWORD = N_("Wrong controller, email or password.")
WRONG_CODE = N_("That code is not right, or it was already used. Enter the current code from your app.")

Text = Annotated[str, Form()]


def _keyring(request: Request) -> Keyring:
    keyring: Keyring = request.app.state.keyring
    return keyring


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _locked(request: Request, lockout: Lockout, controller: str = "") -> Response:
    return render(request, "admin/sign_in.html", {"controller_id": controller, "error": None,
                                                  "locked_minutes": lockout.minutes}, status=429)


def _audit_failure(db: Session, controller_id: str, user: StaffUser | None, step: str) -> None:
    if user is not None and db.get(Controller, controller_id) is not None:
        AuditLog(db).record(controller_id, actor=f"staff:{user.id}", action="staff.sign_in_failed",
                            target=f"staff:{user.id}", data={"step": step})


@router.get("/sign-in")
def sign_in_form(request: Request, db: PageSession, controller: str = "") -> Response:
    record = session_record(request, db, max_age=SESSION_LIFETIME)
    if record is not None and record.stage == FULL:
        return RedirectResponse("/admin", status_code=303)
    return render(request, "admin/sign_in.html", {"controller_id": controller, "error": None,
                                                  "locked_minutes": None})


@router.post("/sign-in")
def sign_in(request: Request, db: PageSession, controller: Text, email: Text, password: Text) -> Response:
    controller = controller.strip().lower()
    account = f"{controller}:{email.strip().lower()}"
    limiter = RateLimiter(db, _keyring(request))
    lockout = limiter.lockout(PER_ACCOUNT, account) or limiter.lockout(PER_ADDRESS, _address(request))
    if lockout is not None:
        return _locked(request, lockout, controller)
    staff = StaffService(db)
    try:
        user = staff.authenticate(controller, email, password)
    except Unauthorized:
        _audit_failure(db, controller, staff.find(controller, email), "password")
        lockout = limiter.hit(PER_ACCOUNT, account) or limiter.hit(PER_ADDRESS, _address(request))
        if lockout is not None:
            return _locked(request, lockout, controller)
        return render(request, "admin/sign_in.html", {"controller_id": controller, "error": WRONG_PASSWORD,
                                                      "locked_minutes": None}, status=401)
    limiter.clear(PER_ACCOUNT, account)
    enrolled = user.totp_secret is not None
    opened = SessionStore(db).open(
        user.controller_id, kind=KIND, principal=f"staff:{user.id}",
        stage=NEEDS_CODE if enrolled else NEEDS_ENROLMENT, lifetime=PENDING_LIFETIME, idle=PENDING_LIFETIME,
        data={} if enrolled else {"totp_secret": totp.new_secret()})
    response = RedirectResponse(f"{SIGN_IN}/{'code' if enrolled else 'enrol'}", status_code=303)
    write_token(response, request, COOKIE, opened.token, max_age=int(PENDING_LIFETIME.total_seconds()))
    return response


def _pending(request: Request, db: Session, stage: str) -> tuple[WebSession, StaffUser] | None:
    record = session_record(request, db, max_age=PENDING_LIFETIME)
    if record is None or record.stage != stage:
        return None
    user = db.get(StaffUser, int(record.principal.removeprefix("staff:")))
    if user is None or not user.is_active:
        return None
    return record, user


def _enrolment(record: WebSession, user: StaffUser) -> dict[str, object]:
    secret = str(record.data["totp_secret"])
    return {"secret": secret, "uri": totp.provisioning_uri(secret, account=user.email,
                                                          issuer=f"Charter ({user.controller_id})"),
            "grouped": " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))}


@router.get("/sign-in/code")
def code_form(request: Request, db: PageSession) -> Response:
    if _pending(request, db, NEEDS_CODE) is None:
        return RedirectResponse(SIGN_IN, status_code=303)
    return render(request, "admin/code.html", {"error": None})


@router.post("/sign-in/code")
def code(request: Request, db: PageSession, code: Text) -> Response:
    pending = _pending(request, db, NEEDS_CODE)
    if pending is None:
        return RedirectResponse(SIGN_IN, status_code=303)
    record, user = pending
    return _second_factor(request, db, record, user, passes=lambda: StaffService(db).check_totp(user, code),
                          template="admin/code.html", context={})


@router.get("/sign-in/enrol")
def enrol_form(request: Request, db: PageSession) -> Response:
    pending = _pending(request, db, NEEDS_ENROLMENT)
    if pending is None:
        return RedirectResponse(SIGN_IN, status_code=303)
    return render(request, "admin/enrol.html", {"error": None, **_enrolment(*pending)})


@router.post("/sign-in/enrol")
def enrol(request: Request, db: PageSession, code: Text) -> Response:
    pending = _pending(request, db, NEEDS_ENROLMENT)
    if pending is None:
        return RedirectResponse(SIGN_IN, status_code=303)
    record, user = pending
    secret = str(record.data["totp_secret"])
    return _second_factor(
        request, db, record, user,
        passes=lambda: StaffService(db).enrol_totp(user, secret, code, actor=f"staff:{user.id}"),
        template="admin/enrol.html", context=_enrolment(record, user))


def _second_factor(request: Request, db: Session, record: WebSession, user: StaffUser, *,
                   passes: Callable[[], bool], template: str, context: dict[str, object]) -> Response:
    limiter = RateLimiter(db, _keyring(request))
    lockout = limiter.lockout(PER_CODE, record.principal)
    if lockout is None and passes():
        limiter.clear(PER_CODE, record.principal)
        return _signed_in(request, db, record, user)
    if lockout is None:
        _audit_failure(db, user.controller_id, user, "code")
        lockout = limiter.hit(PER_CODE, record.principal)
    if lockout is not None:
        SessionStore(db).close(record)
        response = _locked(request, lockout, user.controller_id)
        clear_token(response, request, COOKIE)
        return response
    return render(request, template, {**context, "error": WRONG_CODE}, status=401)


def _signed_in(request: Request, db: Session, pending: WebSession, user: StaffUser) -> Response:
    store = SessionStore(db)
    store.close(pending)
    opened = store.open(user.controller_id, kind=KIND, principal=pending.principal, stage=FULL,
                        lifetime=SESSION_LIFETIME, idle=IDLE_TIMEOUT)
    AuditLog(db).record(user.controller_id, actor=pending.principal, action="staff.signed_in",
                        target=pending.principal)
    response = RedirectResponse("/admin", status_code=303)
    write_token(response, request, COOKIE, opened.token, max_age=int(SESSION_LIFETIME.total_seconds()))
    return response


@router.post("/sign-out")
def sign_out(request: Request, db: PageSession) -> Response:
    record = session_record(request, db, max_age=SESSION_LIFETIME)
    if record is not None:
        SessionStore(db).close(record)
        AuditLog(db).record(record.controller_id, actor=record.principal, action="staff.signed_out",
                            target=record.principal)
    response = RedirectResponse(SIGN_IN, status_code=303)
    clear_token(response, request, COOKIE)
    return response
