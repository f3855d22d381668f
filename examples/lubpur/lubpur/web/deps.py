"""Per-request context: the database session, language, who is signed in, CSRF, and the privacy gateway."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session, sessionmaker

from lubpur import accounts
from lubpur.catalogue.categories import CATEGORIES, category_name
from lubpur.errors import InputError
from lubpur.i18n import parse_lang, pick, t
from lubpur.messages import MESSAGES
from lubpur.models import Staff, User
from lubpur.policy import PolicyInfo
from lubpur.privacy import CharterPrivacy, Evidence, LocalPrivacy, Privacy, Subject, subject_of
from lubpur.security import csrf_token, is_csrf_valid
from lubpur.settings import Settings

SESSION_COOKIE = "lubpur_session"
STAFF_COOKIE = "lubpur_staff"
CSRF_COOKIE = "lubpur_csrf"
LANG_COOKIE = "lubpur_lang"
# Set by Charter's banner on this site: `v1.<visitor id>`.
BANNER_COOKIE = "charter_consent"


class LoginRequired(Exception):
    def __init__(self, next_path: str, *, staff: bool = False) -> None:
        super().__init__(next_path)
        self.next_path = next_path
        self.is_staff = staff


class PolicyOutdated(Exception):
    pass


class CsrfFailed(Exception):
    pass


def get_session(request: Request) -> Iterator[Session]:
    factory: sessionmaker[Session] = request.app.state.sessions
    with factory() as session:
        yield session


@dataclass
class Ctx:
    request: Request
    session: Session
    settings: Settings
    policy: PolicyInfo
    privacy: Privacy
    lang: str
    user: User | None
    staff: Staff | None
    csrf_key: str
    extra: dict[str, Any] = field(default_factory=dict)

    def t(self, key: str, **values: object) -> str:
        return t(key, self.lang, **values)

    def evidence(self, method: str) -> Evidence:
        client = self.request.client
        banner = self.request.cookies.get(BANNER_COOKIE, "").split(".")
        visitor = banner[1] if len(banner) == 2 and banner[0] == "v1" else ""
        return Evidence(method=method, ip=client.host if client else "",
                        user_agent=self.request.headers.get("user-agent", ""), lang=self.lang, visitor_id=visitor)

    def subject(self) -> Subject:
        return subject_of(self.user) if self.user else Subject()

    def require_user(self) -> User:
        if self.user is None:
            raise LoginRequired(self.request.url.path)
        if self.user.policy_version != self.policy.version:
            raise PolicyOutdated
        return self.user

    def require_staff(self) -> Staff:
        if self.staff is None:
            raise LoginRequired(self.request.url.path, staff=True)
        return self.staff

    def check_csrf(self, token: str) -> None:
        if not is_csrf_valid(self.settings.secret_key, self.csrf_key, token):
            raise CsrfFailed

    def render(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        templates: Jinja2Templates = self.request.app.state.templates
        lang = self.lang

        def tr(key: str, **kw: object) -> str:
            return t(key, lang, **kw)

        context = {
            "request": self.request, "t": tr, "lang": lang, "user": self.user, "staff": self.staff,
            "csrf": csrf_token(self.settings.secret_key, self.csrf_key), "policy": self.policy,
            "pick": lambda zh, en: pick(lang, zh, en), "category_name": lambda c: category_name(c, lang),
            "categories": list(CATEGORIES), "banner_tag": self.privacy.banner_tag(lang),
            "path": self.request.url.path, "notice": _notice(self.request, lang), **values,
        }
        return templates.TemplateResponse(self.request, template, context, status_code=status)

    def form_error(self, template: str, error: InputError, **values: Any) -> HTMLResponse:
        message = t(error.key, self.lang, **error.values)
        return self.render(template, status=400, error=message, error_field=error.field, **values)


def _notice(request: Request, lang: str) -> str:
    key = request.query_params.get("ok", "")
    return t(f"ok.{key}", lang) if key and f"ok.{key}" in MESSAGES else ""


def context(request: Request, session: Annotated[Session, Depends(get_session)]) -> Ctx:
    settings: Settings = request.app.state.settings
    policy: PolicyInfo = request.app.state.policy
    lang = parse_lang(request.cookies.get(LANG_COOKIE))
    user = staff = None
    web_session = accounts.session_for(session, request.cookies.get(SESSION_COOKIE, ""))
    if web_session is not None and web_session.user_id is not None:
        user = session.get(User, web_session.user_id)
        if user is not None and user.status != "active":
            user = None
    staff_session = accounts.session_for(session, request.cookies.get(STAFF_COOKIE, ""))
    if staff_session is not None and staff_session.staff_id is not None:
        staff = session.get(Staff, staff_session.staff_id)
    privacy = privacy_for(request, session)
    request.state.privacy = privacy
    return Ctx(request, session, settings, policy, privacy, lang, user, staff, request.state.csrf_key)


CtxDep = Annotated[Ctx, Depends(context)]


def privacy_for(request: Request, session: Session) -> CharterPrivacy | LocalPrivacy:
    """Charter when the settings connect it (the app then holds a `CharterLink`), else Lubpur on its own."""
    settings: Settings = request.app.state.settings
    policy: PolicyInfo = request.app.state.policy
    link = request.app.state.charter
    if link is None:
        return LocalPrivacy(session, settings, policy)
    return CharterPrivacy(session, settings, policy, link)


def redirect(path: str, ok: str = "") -> RedirectResponse:
    if ok:
        path += ("&" if "?" in path else "?") + "ok=" + quote(ok)
    return RedirectResponse(path, status_code=303)


def safe_next(value: str) -> str:
    """Only paths on this site, so a `next` parameter can never send anyone elsewhere."""
    return value if value.startswith("/") and not value.startswith("//") and "\\" not in value else "/"


def set_cookie(response: Response, settings: Settings, name: str, value: str, *, max_age: int | None = None,
               http_only: bool = True) -> None:
    response.set_cookie(name, value, max_age=max_age, httponly=http_only, samesite="lax",
                        secure=settings.is_cookie_secure, path="/")


def new_csrf_key() -> str:
    return secrets.token_urlsafe(24)
