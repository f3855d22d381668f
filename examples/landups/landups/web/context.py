"""Per-request plumbing: the database transaction, the visitor (language, session, CSRF), and rendering."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.datastructures import UploadFile

from landups.accounts import AccountService, SessionStore
from landups.crypto import Keys
from landups.forms import Form, Upload
from landups.i18n import Lang, negotiate
from landups.links import subject_of
from landups.mail import Mailer
from landups.messages import translate
from landups.models import StaffMember, User
from landups.photos import PhotoVault
from landups.policyfacts import PolicyFacts
from landups.privacy import QUEUED, CharterGateway, Courier, Privacy, Subject
from landups.settings import Settings
from landups.usage import ClientInfo

SID_COOKIE = "landups_sid"
LANG_COOKIE = "landups_lang"
HONG_KONG = ZoneInfo("Asia/Hong_Kong")


@dataclass
class AppState:
    settings: Settings
    keys: Keys
    engine: Engine
    factory: sessionmaker[Session]
    vault: PhotoVault
    policy: PolicyFacts
    gateway: CharterGateway
    courier: Courier
    templates: Environment
    csrf_key: bytes
    mailer: Mailer


class LoginRequired(Exception):
    def __init__(self, staff: bool = False) -> None:
        super().__init__("login required")
        self.staff = staff


class CsrfFailed(Exception):
    pass


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.landups
    return state


def get_db(request: Request) -> Iterator[Session]:
    """The request owns the transaction: committed when the handler returns, rolled back if it raises."""
    session = app_state(request).factory()
    try:
        yield session
        queued = session.info.pop(QUEUED, False)
        session.commit()
        if queued:
            app_state(request).courier.wake()   # after commit: the courier never sees an uncommitted report
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


DbSession = Annotated[Session, Depends(get_db, scope="function")]


def csrf_token_for(key: bytes, sid: str) -> str:
    return hmac.new(key, sid.encode(), hashlib.sha256).hexdigest()


def hk_today() -> date:
    return datetime.now(HONG_KONG).date()


def hk_time(value: datetime | None) -> str:
    """A stored UTC time as Hong Kong time, the same in every language: `2024-05-01 14:03 HKT`."""
    if value is None:
        return ""
    return value.replace(tzinfo=ZoneInfo("UTC")).astimezone(HONG_KONG).strftime("%Y-%m-%d %H:%M HKT")


class Ctx:
    """What a handler needs about this request."""

    def __init__(self, request: Request, db: Session) -> None:
        self.request = request
        self.db = db
        self.state = app_state(request)
        self.sid: str = request.state.sid
        stored = SessionStore(db).find(self.sid)
        self.web_session = stored
        self.user: User | None = db.get(User, stored.user_id) if stored and stored.user_id else None
        self.staff: StaffMember | None = db.get(StaffMember, stored.staff_id) if stored and stored.staff_id else None
        self.lang = self._language()
        self.client = ClientInfo.from_headers(request.client.host if request.client else "", dict(request.headers))
        self.privacy = Privacy(db, self.state.gateway, self.state.policy)
        self._subject: Subject | None = None

    def _language(self) -> Lang:
        chosen = Lang.parse(self.request.cookies.get(LANG_COOKIE))
        if chosen is not None:
            return chosen
        if self.user is not None:
            return Lang.parse(self.user.language) or Lang.EN
        return negotiate(self.request.headers.get("accept-language"))

    @property
    def me(self) -> User:
        """The signed-in user (pages behind `UserCtx` always have one)."""
        if self.user is None:
            raise LoginRequired()
        return self.user

    @property
    def subject(self) -> Subject:
        if self.user is None:
            raise LoginRequired()
        if self._subject is None:
            self._subject = subject_of(self.db, self.user)
        return self._subject

    @property
    def accounts(self) -> AccountService:
        return AccountService(self.db)

    @property
    def csrf_token(self) -> str:
        return csrf_token_for(self.state.csrf_key, self.sid)

    def t(self, key: str, **values: Any) -> str:
        return translate(key, self.lang, **values)

    def start_session(self, *, user: User | None = None, staff: StaffMember | None = None) -> None:
        """Log in: end the old session and hand the browser a new token (and so a new CSRF token)."""
        store = SessionStore(self.db)
        store.end(self.request.cookies.get(SID_COOKIE))
        self.request.state.sid = store.start(user=user, staff=staff)
        self.request.state.set_sid = True

    def end_session(self) -> None:
        SessionStore(self.db).end(self.request.cookies.get(SID_COOKIE))
        self.request.state.sid = None   # the middleware issues a fresh anonymous token
        self.request.state.set_sid = True

    def render(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        body = self.state.templates.get_template(template).render(
            t=self.t, lang=self.lang, langs=list(Lang),
            lang_options=[(x.value, self.t(f"lang.{x.value}")) for x in Lang],
            user=self.user, staff=self.staff, csrf=self.csrf_token,
            policy=self.state.policy, banner=self.privacy.banner_tag(self.lang), hk_time=hk_time,
            path=self.request.url.path, errors=values.pop("errors", {}), values=values.pop("values", {}), **values)
        return HTMLResponse(body, status_code=status)

    def redirect(self, url: str) -> RedirectResponse:
        return RedirectResponse(url, status_code=303)


def get_ctx(request: Request, db: DbSession) -> Ctx:
    return Ctx(request, db)


def get_user_ctx(request: Request, db: DbSession) -> Ctx:
    """A signed-in user's request; a GET is recorded as a page view (LAN-COLLECT-USAGE browsing records)."""
    ctx = Ctx(request, db)
    if ctx.user is None:
        raise LoginRequired()
    if request.method == "GET":
        ctx.accounts.record_page_view(ctx.user, request.url.path, ctx.client)
    return ctx


def get_staff_ctx(request: Request, db: DbSession) -> Ctx:
    ctx = Ctx(request, db)
    if ctx.staff is None:
        raise LoginRequired(staff=True)
    return ctx


PageCtx = Annotated[Ctx, Depends(get_ctx)]
UserCtx = Annotated[Ctx, Depends(get_user_ctx)]
StaffCtx = Annotated[Ctx, Depends(get_staff_ctx)]


async def posted_form(request: Request) -> Form:
    """The submitted form, after checking its CSRF token; files are read up to the photo limit plus one byte."""
    state = app_state(request)
    data = await request.form(max_files=4, max_fields=60)
    expected = csrf_token_for(state.csrf_key, request.state.sid)
    if not hmac.compare_digest(str(data.get("csrf_token", "")), expected):
        raise CsrfFailed()
    fields: dict[str, str] = {}
    files: dict[str, Upload] = {}
    for name, value in data.multi_items():
        if isinstance(value, UploadFile):
            if value.filename:
                raw = await value.read(state.settings.max_photo_bytes + 1)
                files[name] = Upload(filename=value.filename, content_type=value.content_type or "",
                                     data=raw, too_large=len(raw) > state.settings.max_photo_bytes)
        else:
            fields[name] = value
    return Form(fields=fields, files=files)


PostedForm = Annotated[Form, Depends(posted_form)]
