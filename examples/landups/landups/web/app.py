"""`create_app(settings)`: the Landups ASGI application."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape

from landups.crypto import Keys
from landups.db import make_engine, session_factory
from landups.i18n import Lang, negotiate
from landups.mail import mailer_from_settings
from landups.messages import translate
from landups.models import create_schema
from landups.photos import PhotoVault
from landups.policyfacts import PolicyFacts
from landups.privacy import CharterGateway, Courier, gateway_from_settings
from landups.settings import HERE, Settings
from landups.web import charter_webhook, pages_account, pages_features, pages_public, pages_staff
from landups.web.context import LANG_COOKIE, SID_COOKIE, AppState, CsrfFailed, LoginRequired

SESSION_COOKIE_SECONDS = 30 * 24 * 3600   # purpose cookies_necessary: 30 days


def _csrf_key(keys: Keys) -> bytes:
    """Derived from the field key, so there is no third secret to keep."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"landups csrf").derive(keys.fields.key)


def _security_headers(response: Response, charter_origin: str | None) -> None:
    charter = "'self'" + (f" {charter_origin}" if charter_origin else "")   # the banner's script, calls, styles
    response.headers["Content-Security-Policy"] = (
        f"default-src 'self'; script-src {charter}; connect-src {charter}; style-src {charter}; "
        "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    if "cache-control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"


def build_state(settings: Settings, gateway: CharterGateway | None = None) -> AppState:
    """Keys, database (schema created if missing), photo vault, policy facts, the Charter gateway (from the
    `LANDUPS_CHARTER_*` settings unless given), the courier that delivers queued reports, and the mailer."""
    keys = Keys.load(settings)
    engine = make_engine(settings.database_url)
    create_schema(engine)
    factory = session_factory(engine)
    gateway = gateway or gateway_from_settings(settings)
    return AppState(
        settings=settings, keys=keys, engine=engine, factory=factory,
        vault=PhotoVault(settings.photo_dir, keys.files), policy=PolicyFacts.load(settings.policy_path),
        gateway=gateway, courier=Courier(factory, gateway, settings.charter_delivery_seconds),
        templates=Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(),
                              trim_blocks=True, lstrip_blocks=True),
        csrf_key=_csrf_key(keys), mailer=mailer_from_settings(settings),
    )


def create_app(settings: Settings | None = None, gateway: CharterGateway | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    state = build_state(settings, gateway)
    app = FastAPI(title="Landups", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.landups = state
    state.courier.wake()   # delivers what an earlier run left queued, then every `charter_delivery_seconds`
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for module in (pages_public, pages_account, pages_features, pages_staff, charter_webhook):
        app.include_router(module.router)
    max_body = settings.max_photo_bytes * 2 + 1024 * 1024
    charter_origin = settings.charter_url.rstrip("/") if settings.charter_url else None

    @app.middleware("http")
    async def visitor(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        """Every visitor gets a strictly necessary session cookie (it carries the CSRF token's seed)."""
        sid = request.cookies.get(SID_COOKIE)
        request.state.sid = sid or secrets.token_urlsafe(32)
        request.state.set_sid = sid is None
        if int(request.headers.get("content-length") or 0) > max_body:
            response: Response = HTMLResponse(translate("err.body_too_large", _lang_of(request)), status_code=413)
        else:
            response = await call_next(request)
        if request.state.set_sid:
            new_sid = request.state.sid or secrets.token_urlsafe(32)
            response.set_cookie(SID_COOKIE, new_sid, max_age=SESSION_COOKIE_SECONDS, path="/", httponly=True,
                                secure=settings.cookie_secure, samesite="lax")
        chosen = getattr(request.state, "set_lang", None)
        if chosen:
            response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 24 * 3600, path="/", httponly=True,
                                secure=settings.cookie_secure, samesite="lax")
        if not request.url.path.startswith("/static/"):
            _security_headers(response, charter_origin)
        return response

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse("/staff/login" if exc.staff else "/login", status_code=303)

    @app.exception_handler(CsrfFailed)
    async def csrf_failed(request: Request, exc: CsrfFailed) -> Response:
        return HTMLResponse(translate("err.csrf", _lang_of(request)), status_code=403)

    return app


def _lang_of(request: Request) -> Lang:
    return Lang.parse(request.cookies.get(LANG_COOKIE)) or negotiate(request.headers.get("accept-language"))
