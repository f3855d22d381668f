"""The ASGI app: `create_app(settings)`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session, sessionmaker

from lubpur.catalogue.services import seed_catalogue
from lubpur.closures import ClosureWatch
from lubpur.db import make_engine, session_factory, unit_of_work
from lubpur.errors import NotFound
from lubpur.i18n import parse_lang, t
from lubpur.policy import load_policy
from lubpur.privacy import CharterLink
from lubpur.reports import CharterDown, ReportDelivery
from lubpur.schema import create_schema
from lubpur.settings import Settings
from lubpur.web import account, charter_hooks, mail, me, pages, staff
from lubpur.web.deps import (
    CSRF_COOKIE,
    LANG_COOKIE,
    CsrfFailed,
    LoginRequired,
    PolicyOutdated,
    new_csrf_key,
    set_cookie,
)

HERE = Path(__file__).resolve().parent
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    engine = make_engine(settings.database_url)
    sessions: sessionmaker[Session] = session_factory(engine)
    policy = load_policy(settings.policy_file)
    link = CharterLink.from_settings(settings, policy) if settings.is_charter_connected else None
    # One background loop: reports to Charter, and the accounts Charter closed (when the webhook was missed).
    delivery = ReportDelivery(sessions, link, ClosureWatch(sessions, link.client)) if link is not None else None

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        create_schema(engine)
        with unit_of_work(sessions) as session:
            seed_catalogue(session)
        if delivery is not None:
            delivery.start()
        yield
        if delivery is not None:
            delivery.stop()
        engine.dispose()

    app = FastAPI(title="Lubpur 超润", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = sessions
    app.state.policy = policy
    app.state.charter = link
    app.state.delivery = delivery
    app.state.templates = Jinja2Templates(directory=str(HERE / "templates"))
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    for router in (pages.router, account.router, me.router, mail.router, staff.router, charter_hooks.router):
        app.include_router(router)
    _middleware(app, settings)
    if delivery is not None:
        _deliver_after_commit(app, delivery)
    _handlers(app)
    return app


def _middleware(app: FastAPI, settings: Settings) -> None:
    @app.middleware("http")
    async def csrf_cookie(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        key = request.cookies.get(CSRF_COOKIE, "")
        request.state.csrf_key = key or new_csrf_key()
        response = await call_next(request)
        if not key:
            set_cookie(response, settings, CSRF_COOKIE, request.state.csrf_key)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response


def _deliver_after_commit(app: FastAPI, delivery: ReportDelivery) -> None:
    """What a request queued for Charter goes right after it (its route has committed), so the next page already
    sees it in Charter's answers; when Charter is down the background loop keeps trying."""

    @app.middleware("http")
    async def deliver(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        privacy = getattr(request.state, "privacy", None)
        if privacy is not None and privacy.has_queued:
            try:
                await run_in_threadpool(delivery.deliver_pending)
            except CharterDown:
                delivery.poke()
        return response


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(_request: Request, exc: LoginRequired) -> Response:
        target = "/staff/login" if exc.is_staff else "/login"
        return RedirectResponse(f"{target}?next={exc.next_path}", status_code=303)

    @app.exception_handler(PolicyOutdated)
    async def policy_outdated(_request: Request, _exc: PolicyOutdated) -> Response:
        return RedirectResponse("/policy/accept", status_code=303)

    @app.exception_handler(NotFound)
    async def not_found(request: Request, _exc: NotFound) -> Response:
        lang = parse_lang(request.cookies.get(LANG_COOKIE))
        body = f"<h1>{t('err.not_found', lang)}</h1><p><a href=\"/\">{t('nav.home', lang)}</a></p>"
        return HTMLResponse(body, status_code=404)

    @app.exception_handler(CsrfFailed)
    async def csrf_failed(request: Request, _exc: CsrfFailed) -> Response:
        lang = parse_lang(request.cookies.get(LANG_COOKIE))
        return HTMLResponse(f"<h1>{t('err.csrf', lang)}</h1>", status_code=403)
