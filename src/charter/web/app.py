"""`create_app()`: the one ASGI app `charter serve` runs: the API, the admin console, the privacy centre."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from charter import __version__
from charter.core.crypto import load_keyring
from charter.core.db import make_engine, session_factory
from charter.core.settings import Settings, load_settings
from charter.migrations import ensure_current
from charter.outbox import BackgroundSender, OutboxSender, transports_from_settings
from charter.web import admin, center, errors
from charter.web.api import announcements, datamaps, incidents, operations, policies, retention
from charter.web.jobs import periodic_jobs
from charter.web.ui.i18n import LanguageSwitch
from charter.web.ui.security import SecurityHeaders
from charter.web.ui.templates import ASSETS_DIR, make_ui


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    engine = make_engine(settings.database_url)
    ensure_current(engine)
    sessions = session_factory(engine)
    keyring = load_keyring(settings)
    # DESIGN: with no configuration, the worker runs in-process — nothing else to start.
    sender = BackgroundSender(OutboxSender(sessions, keyring, transports_from_settings(settings)),
                              interval=settings.outbox_interval) if settings.outbox_worker else None
    jobs = periodic_jobs(settings, sessions, keyring) if settings.scheduler else None

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if sender is not None:
            sender.start()
        if jobs is not None:
            jobs.start()
        yield
        if jobs is not None:
            jobs.stop()
        if sender is not None:
            sender.stop()
        engine.dispose()

    app = FastAPI(title="Charter", version=__version__, lifespan=lifespan,
                  description="Keeps the promises a privacy policy makes.")
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = sessions
    app.state.keyring = keyring
    app.state.outbox_sender = sender
    app.state.jobs = jobs
    # Cookie and form-token signing key: derived from the keyring, so every worker shares it with no new secret.
    app.state.ui = make_ui(bytes.fromhex(keyring.blind_index("charter.web", "cookie-signing")))
    errors.install(app)
    app.include_router(policies.router)
    app.include_router(datamaps.router)
    app.include_router(retention.router)
    app.include_router(incidents.router)
    app.include_router(operations.router)
    app.include_router(operations.changes)
    app.include_router(announcements.router)
    app.include_router(announcements.public)
    app.include_router(admin.router)
    app.include_router(center.router)
    app.mount("/assets", StaticFiles(directory=ASSETS_DIR), name="assets")
    app.add_middleware(LanguageSwitch, prefixes=("/admin", "/center"))
    app.add_middleware(SecurityHeaders)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
