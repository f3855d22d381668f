"""Signing in to the privacy centre: a six-digit code sent (through the outbox) to an email or phone Charter
already knows for the person (or for a minor's guardian: see `guardian`), or a signed single-use link the host
minted for its logged-in user, opened with a button on the page it leads to.

The answer to "send me a code" is the same whether or not the address is known, so the form never tells who is
a customer. Attempts are limited per address asked for, per visitor address and per code.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from charter.audit.services import AuditLog
from charter.core.crypto import Keyring
from charter.core.db import utcnow
from charter.core.errors import CharterError
from charter.outbox.services import Outbox
from charter.ratelimit.services import Limit, Lockout, RateLimiter
from charter.sessions.models import WebSession
from charter.sessions.services import SessionStore
from charter.subjects.normalise import IdentityKind, normalise, parse_kind
from charter.subjects.services import SubjectDirectory
from charter.web.center.context import Center, CenterPage
from charter.web.center.identity import masked_identity
from charter.web.center.person import (
    CHOOSE,
    COOKIE,
    FULL,
    IDLE_TIMEOUT,
    KIND,
    LINK_KIND,
    NEEDS_CODE,
    PENDING_LIFETIME,
    SESSION_LIFETIME,
    guardian_may_act,
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


def parse_identity(value: str) -> tuple[IdentityKind, str] | None:
    kind = IdentityKind.EMAIL if "@" in value else IdentityKind.PHONE
    try:
        return kind, normalise(parse_kind(kind.value), value)
    except CharterError:
        return None


def _code_hash(keyring: Keyring, controller_id: str, pending_id: str, code: str) -> str:
    return keyring.blind_index(f"{controller_id}:center-code:{pending_id}", code)


def lockout_for(request: Request, db: Session, controller_id: str, key: str) -> Lockout | None:
    """Count one "send me a code" for this visitor's address and for the identity asked for (`key`)."""
    limiter = RateLimiter(db, _keyring(request))
    buckets = ((PER_ADDRESS, _address(request)), (PER_IDENTITY, f"{controller_id}:{key}"))
    lockout = next((locked for limit, bucket in buckets if (locked := limiter.lockout(limit, bucket))), None)
    if lockout is None:
        for limit, bucket in buckets:
            limiter.hit(limit, bucket)
    return lockout


def pending_code(request: Request, db: Session, controller_id: str, *, kind: IdentityKind, value: str,
                 principal: str | None, data: dict[str, object] | None = None) -> Response:
    """Open a pending sign-in and, if `principal` is someone Charter knows, send the code to `value`. The answer is
    the same either way: a redirect to the code page, where no code ever matches an unknown address."""
    opened = SessionStore(db).open(controller_id, kind=KIND, principal=principal or NOBODY, stage=NEEDS_CODE,
                                   lifetime=PENDING_LIFETIME, idle=PENDING_LIFETIME)
    code = f"{secrets.randbelow(10**6):06d}"
    opened.record.data = {**(data or {}), "code": _code_hash(_keyring(request), controller_id, opened.record.id,
                                                             code if principal else secrets.token_hex(16))}
    if principal is not None:
        sender = request.app.state.wake_outbox
        Outbox(db, _keyring(request), notify=sender).enqueue(
            controller_id, channel=CHANNELS[kind], to=value, template="verification_code",
            params={"code": code, "expires_minutes": int(PENDING_LIFETIME.total_seconds() // 60)},
            language=page_lang(request), actor=principal)
    response = RedirectResponse(f"/center/{controller_id}/sign-in/code", status_code=303)
    write_token(response, request, COOKIE, opened.token, max_age=int(PENDING_LIFETIME.total_seconds()))
    return response


@router.post("/{controller}/sign-in")
def send_code(request: Request, db: PageSession, center: CenterPage, identity: Text) -> Response:
    found = parse_identity(identity.strip())
    if found is None:
        return _form(request, error=NOT_AN_ADDRESS, status=400)
    kind, value = found
    lockout = lockout_for(request, db, center.controller_id, f"{kind}:{value}")
    if lockout is not None:
        return _form(request, locked=lockout)
    subject = SubjectDirectory(db, _keyring(request)).find(center.controller_id, kind.value, value)
    return pending_code(request, db, center.controller_id, kind=kind, value=value,
                        principal=f"subject:{subject.id}" if subject else None)


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
        wards = pending.data.get("wards")
        if isinstance(wards, list):
            return _guardian_signed_in(request, db, pending, wards)
        return open_session(request, db, pending, how="center-code")
    lockout = lockout or limiter.hit(PER_CODE, pending.id)
    if lockout is not None:
        SessionStore(db).close(pending)
        response = _form(request, locked=lockout)
        clear_token(response, request, COOKIE)
        return response
    return render(request, "center/code.html", {"error": WRONG_CODE}, status=401)


def _guardian_signed_in(request: Request, db: Session, pending: WebSession, wards: list[list[str]]) -> Response:
    """A guardian proved their contact: straight in for their one minor, else they choose whom to act for."""
    if len(wards) == 1:
        record_id, subject_id = wards[0]
        return open_session(request, db, pending, how="guardian-code", subject_id=subject_id, guardian=record_id)
    store = SessionStore(db)
    store.close(pending)
    opened = store.open(pending.controller_id, kind=KIND, principal=pending.principal, stage=CHOOSE,
                        lifetime=PENDING_LIFETIME, idle=PENDING_LIFETIME,
                        data={"wards": wards, "verified_at": utcnow().isoformat()})
    response = RedirectResponse(f"/center/{pending.controller_id}/guardian/choose", status_code=303)
    write_token(response, request, COOKIE, opened.token, max_age=int(PENDING_LIFETIME.total_seconds()))
    return response


def open_session(request: Request, db: Session, pending: WebSession, *, how: str, subject_id: str | None = None,
                 guardian: str | None = None) -> Response:
    """Close the pending sign-in (or the host's link: used once) and open the person's session; with `guardian`,
    the guardian-consent record under which a guardian acts for the minor `subject_id`."""
    store = SessionStore(db)
    store.close(pending)
    principal = f"subject:{subject_id}" if subject_id else pending.principal
    data: dict[str, object] = {"how": how, "verified_at": utcnow().isoformat()}
    if guardian is not None:
        data["guardian"] = guardian
    opened = store.open(pending.controller_id, kind=KIND, principal=principal, stage=FULL,
                        lifetime=SESSION_LIFETIME, idle=IDLE_TIMEOUT, data=data)
    AuditLog(db).record(pending.controller_id, actor=f"guardian:{guardian}" if guardian else principal,
                        action="center.signed_in", target=principal, data={"by": how})
    response = RedirectResponse(f"/center/{pending.controller_id}/data", status_code=303)
    write_token(response, request, COOKIE, opened.token, max_age=int(SESSION_LIFETIME.total_seconds()))
    return response


def _link(request: Request, db: Session, center: Center, token: str) -> WebSession | None:
    link = SessionStore(db).find(token, kind=LINK_KIND) if 20 <= len(token) <= 100 else None
    if link is None or link.controller_id != center.controller_id or link.stage != FULL:
        return None
    guardian = link.data.get("guardian")
    subject_id = link.principal.removeprefix("subject:")
    if guardian is not None and not guardian_may_act(request, db, center.controller_id, subject_id):
        return None
    return link


@router.get("/{controller}/enter")
def enter_form(request: Request, db: PageSession, center: CenterPage,
               token: Annotated[str, Query(max_length=200)] = "") -> Response:
    """A host-minted link shows whom it signs in as, with a button. Opening it signs nobody in, so a mail scanner
    or a link preview that fetches it neither uses it up nor opens a session."""
    link = _link(request, db, center, token)
    if link is None:
        return RedirectResponse(sign_in_path(center.controller_id), status_code=303)
    subject_id = link.principal.removeprefix("subject:")
    return render(request, "center/enter.html", {
        "token": token, "who": masked_identity(request, db, center.controller_id, subject_id),
        "as_guardian": link.data.get("guardian") is not None})


@router.post("/{controller}/enter")
def enter(request: Request, db: PageSession, center: CenterPage, token: Text) -> Response:
    """The button: open the link's session, once, within its lifetime; any other use goes to the code sign-in."""
    link = _link(request, db, center, token)
    if link is None:
        return RedirectResponse(sign_in_path(center.controller_id), status_code=303)
    guardian = link.data.get("guardian")
    return open_session(request, db, link, how="guardian-link" if guardian is not None else "center-link",
                        guardian=str(guardian) if guardian is not None else None)


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
