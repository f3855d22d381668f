"""`create_app()`: the one ASGI app `charter serve` runs: the API, the admin console, the privacy centre."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from charter import __version__
from charter.core.crypto import load_keyring
from charter.core.db import make_engine, session_factory
from charter.core.settings import Settings, load_settings
from charter.decisions.decider import Decider
from charter.decisions.services import SqlDecisionSource
from charter.migrations import ensure_current
from charter.outbox import BackgroundSender, OutboxSender, transports_from_settings
from charter.web import admin, center, errors
from charter.web.api import (
    admin_requests,
    announcements,
    banner,
    center_links,
    consents,
    datamaps,
    decisions,
    host_records,
    incidents,
    operations,
    policies,
    requests,
    retention,
    subjects,
)
from charter.web.cors import BannerCors
from charter.web.deps import KeyCache
from charter.web.jobs import periodic_jobs
from charter.web.ui.i18n import LanguageSwitch
from charter.web.ui.security import SecurityHeaders
from charter.web.ui.templates import ASSETS_DIR, make_ui
from charter.web.workers import request_workers

STATIC = Path(__file__).parent / "static"
# https://privacycg.github.io/gpc-spec/: the site honours Global Privacy Control (here: Charter's banner).
GPC_SUPPORT = {"gpc": True, "lastUpdate": "2025-01-01"}


def _mount(app: FastAPI) -> None:
    """Every router, static folder and middleware of the one app."""
    app.add_middleware(BannerCors)
    for module in (policies, datamaps, subjects, consents, decisions, banner, requests, admin_requests, host_records,
                   center_links, retention, incidents, operations, announcements):
        app.include_router(module.router)
    app.include_router(requests.acks)
    app.include_router(operations.changes)
    app.include_router(announcements.public)
    app.include_router(admin.router)
    app.include_router(center.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.mount("/assets", StaticFiles(directory=ASSETS_DIR), name="assets")
    app.add_middleware(LanguageSwitch, prefixes=("/admin", "/center"))
    app.add_middleware(SecurityHeaders)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    engine = make_engine(settings.database_url)
    ensure_current(engine)
    sessions = session_factory(engine)
    keyring = load_keyring(settings)
    # DESIGN: with no configuration, the worker runs in-process — nothing else to start.
    sender = BackgroundSender(OutboxSender(sessions, keyring, transports_from_settings(settings)),
                              interval=settings.outbox_interval) if settings.outbox_worker else None
    decider = Decider(SqlDecisionSource(sessions, keyring))
    decider.watch(sessions)

    workers = request_workers(settings, sessions, keyring, notify=sender.wake if sender else None)
    # With a broker, `charter worker` runs the periodic jobs; without one, this process does.
    jobs = periodic_jobs(settings, sessions, keyring) if settings.scheduler and not settings.broker_url else None

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        decider.start()
        if sender is not None:
            sender.start()
        workers.start()
        if jobs is not None:
            jobs.start()
        # Everything built so far lives as long as the process: keep the cyclic collector from rescanning it on
        # every collection the request path triggers.
        gc.collect()
        gc.freeze()
        yield
        if jobs is not None:
            jobs.stop()
        workers.stop()
        if sender is not None:
            sender.stop()
        decider.close()
        engine.dispose()

    app = FastAPI(title="Charter", version=__version__, lifespan=lifespan,
                  description="Keeps the promises a privacy policy makes.")
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = sessions
    app.state.keyring = keyring
    app.state.outbox_sender = sender
    app.state.decider = decider
    app.state.keys = KeyCache(sessions)
    app.state.request_queue = workers.queue
    app.state.request_workers = workers
    app.state.wake_outbox = sender.wake if sender else None
    app.state.jobs = jobs
    # Cookie and form-token signing key: derived from the keyring, so every worker shares it with no new secret.
    app.state.ui = make_ui(bytes.fromhex(keyring.blind_index("charter.web", "cookie-signing")))
    errors.install(app)
    _mount(app)

    @app.get("/.well-known/gpc.json", include_in_schema=False)
    def gpc() -> JSONResponse:
        return JSONResponse(GPC_SUPPORT)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
