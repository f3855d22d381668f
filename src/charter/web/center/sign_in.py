"""Signing in to the privacy centre: a six-digit code sent (through the outbox) to an email or phone Charter
already knows for the person, or a signed single-use link the host minted for its logged-in user.

The answer to "send me a code" is the same whether or not the address is known, so the form never tells who is
a customer. Attempts are limited per address asked for, per visitor address and per code.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from charter.audit.services import AuditLog
from charter.core.crypto import Keyring
from charter.core.errors import CharterError
from charter.outbox.services import Outbox
from charter.ratelimit.services import Limit, Lockout, RateLimiter
from charter.sessions.models import WebSession
from charter.sessions.services import SessionStore
from charter.subjects.normalise import IdentityKind, normalise, parse_kind
from charter.subjects.services import SubjectDirectory
from charter.web.center.context import Center, CenterPage
from charter.web.center.person import (
    COOKIE,
    FULL,
    IDLE_TIMEOUT,
    KIND,
    LINK_KIND,
    NEEDS_CODE,
    PENDING_LIFETIME,
    SESSION_LIFETIME,
    session_record,
    sign_in_path,
    signed_in,
)
from charter.web.deps import PageSession
from charter.web.ui import N_, page_lang, render
from charter.web.ui.cookies import clear_token, write_token

router = APIRouter()

PER_IDENTITY = Limit("center-sign-in", attempts=5, window=dt.timedelta(minutes=15))
PER_ADDRESS = Limit("center-sign-in-address", attempts=30, window=dt.timedelta(minutes=15))
PER_CODE = Limit("center-code", attempts=5, window=dt.timedelta(minutes=15))

CHANNELS = {IdentityKind.EMAIL: "email", IdentityKind.PHONE: "sms"}
NOT_AN_ADDRESS = N_("Enter an email address or a mobile number.")
WRONG_CODE = N_("That code is not right or has expired. Enter the six digits from the latest message.")
NOBODY = "subject:-"
"""The principal of a pending sign-in for an address Charter does not know: no code can ever match."""

Text = Annotated[str, Form()]


def _keyring(request: Request) -> Keyring:
    keyring: Keyring = request.app.state.keyring
    return keyring


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _form(request: Request, *, error: str | None = None, locked: Lockout | None = None,
          status: int = 200) -> Response:
    return render(request, "center/sign_in.html", {"error": error,
                                                   "locked_minutes": locked.minutes if locked else None},
                  status=429 if locked else status)


@router.get("/{controller}/sign-in")
def sign_in_form(request: Request, db: PageSession, center: CenterPage) -> Response:
    if signed_in(request, db, center) is not None:
        return RedirectResponse(f"/center/{center.controller_id}/data", status_code=303)
    return _form(request)


def _identity(value: str) -> tuple[IdentityKind, str] | None:
    kind = IdentityKind.EMAIL if "@" in value else IdentityKind.PHONE
    try:
        return kind, normalise(parse_kind(kind.value), value)
    except CharterError:
        return None


def _code_hash(keyring: Keyring, controller_id: str, pending_id: str, code: str) -> str:
    return keyring.blind_index(f"{controller_id}:center-code:{pending_id}", code)


@router.post("/{controller}/sign-in")
def send_code(request: Request, db: PageSession, center: CenterPage, identity: Text) -> Response:
    found = _identity(identity.strip())
    if found is None:
        return _form(request, error=NOT_AN_ADDRESS, status=400)
    kind, value = found
    limiter, cid = RateLimiter(db, _keyring(request)), center.controller_id
    buckets = ((PER_ADDRESS, _address(request)), (PER_IDENTITY, f"{cid}:{kind}:{value}"))
    lockout = next((locked for limit, key in buckets if (locked := limiter.lockout(limit, key))), None)
    if lockout is not None:
        return _form(request, locked=lockout)
    for limit, key in buckets:
        limiter.hit(limit, key)
    subject = SubjectDirectory(db, _keyring(request)).find(cid, kind.value, value)
    opened = SessionStore(db).open(cid, kind=KIND, principal=f"subject:{subject.id}" if subject else NOBODY,
                                   stage=NEEDS_CODE, lifetime=PENDING_LIFETIME, idle=PENDING_LIFETIME)
    code = f"{secrets.randbelow(10**6):06d}"
    opened.record.data = {"code": _code_hash(_keyring(request), cid, opened.record.id,
                                             code if subject else secrets.token_hex(16))}
    if subject is not None:
        sender = request.app.state.wake_outbox
        Outbox(db, _keyring(request), notify=sender).enqueue(
            cid, channel=CHANNELS[kind], to=value, template="verification_code",
            params={"code": code, "expires_minutes": int(PENDING_LIFETIME.total_seconds() // 60)},
            language=page_lang(request), actor=f"subject:{subject.id}")
    response = RedirectResponse(f"/center/{cid}/sign-in/code", status_code=303)
    write_token(response, request, COOKIE, opened.token, max_age=int(PENDING_LIFETIME.total_seconds()))
    return response


def _pending(request: Request, db: Session, center: Center) -> WebSession | None:
    record = session_record(request, db, max_age=PENDING_LIFETIME)
    if record is None or record.stage != NEEDS_CODE or record.controller_id != center.controller_id:
        return None
    return record


@router.get("/{controller}/sign-in/code")
def code_form(request: Request, db: PageSession, center: CenterPage) -> Response:
    if _pending(request, db, center) is None:
        return RedirectResponse(sign_in_path(center.controller_id), status_code=303)
    return render(request, "center/code.html", {"error": None})


@router.post("/{controller}/sign-in/code")
def check_code(request: Request, db: PageSession, center: CenterPage, code: Text) -> Response:
    pending = _pending(request, db, center)
    if pending is None:
        return RedirectResponse(sign_in_path(center.controller_id), status_code=303)
    limiter = RateLimiter(db, _keyring(request))
    lockout = limiter.lockout(PER_CODE, pending.id)
    given = code.strip()
    expected = str(pending.data.get("code", ""))
    good = given.isdigit() and len(given) == 6 and hmac.compare_digest(
        expected, _code_hash(_keyring(request), center.controller_id, pending.id, given))
    if lockout is None and good and pending.principal != NOBODY:
        return _open(request, db, pending, how="center-code")
    lockout = lockout or limiter.hit(PER_CODE, pending.id)
    if lockout is not None:
        SessionStore(db).close(pending)
        response = _form(request, locked=lockout)
        clear_token(response, request, COOKIE)
        return response
    return render(request, "center/code.html", {"error": WRONG_CODE}, status=401)


def _open(request: Request, db: Session, pending: WebSession, *, how: str) -> Response:
    store = SessionStore(db)
    store.close(pending)
    opened = store.open(pending.controller_id, kind=KIND, principal=pending.principal, stage=FULL,
                        lifetime=SESSION_LIFETIME, idle=IDLE_TIMEOUT, data={"how": how})
    AuditLog(db).record(pending.controller_id, actor=pending.principal, action="center.signed_in",
                        target=pending.principal, data={"by": how})
    response = RedirectResponse(f"/center/{pending.controller_id}/data", status_code=303)
    write_token(response, request, COOKIE, opened.token, max_age=int(SESSION_LIFETIME.total_seconds()))
    return response


@router.get("/{controller}/enter")
def enter(request: Request, db: PageSession, center: CenterPage, token: str = "") -> Response:
    """Open a host-minted link: once, within its lifetime; any other use is sent to the code sign-in."""
    link = SessionStore(db).find(token, kind=LINK_KIND) if 20 <= len(token) <= 100 else None
    if link is None or link.controller_id != center.controller_id or link.stage != FULL:
        return RedirectResponse(sign_in_path(center.controller_id), status_code=303)
    return _open(request, db, link, how="center-link")


@router.post("/{controller}/sign-out")
def sign_out(request: Request, db: PageSession, center: CenterPage) -> Response:
    record = session_record(request, db, max_age=SESSION_LIFETIME)
    if record is not None and record.controller_id == center.controller_id:
        SessionStore(db).close(record)
        AuditLog(db).record(record.controller_id, actor=record.principal, action="center.signed_out",
                            target=record.principal)
    response = RedirectResponse(f"/center/{center.controller_id}", status_code=303)
    clear_token(response, request, COOKIE)
    return response
