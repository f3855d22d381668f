"""`create_app()`: the one ASGI app `charter serve` runs."""

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
from charter.web import errors
from charter.web.api import banner, consents, decisions, policies, subjects
from charter.web.cors import BannerCors
from charter.web.deps import KeyCache

STATIC = Path(__file__).parent / "static"
# https://privacycg.github.io/gpc-spec/: the site honours Global Privacy Control (here: Charter's banner).
GPC_SUPPORT = {"gpc": True, "lastUpdate": "2025-01-01"}


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    engine = make_engine(settings.database_url)
    ensure_current(engine)
    sessions = session_factory(engine)
    keyring = load_keyring(settings)
    decider = Decider(SqlDecisionSource(sessions, keyring))
    decider.watch(sessions)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        decider.start()
        # Everything built so far lives as long as the process: keep the cyclic collector from rescanning it on
        # every collection the request path triggers.
        gc.collect()
        gc.freeze()
        yield
        decider.close()
        engine.dispose()

    app = FastAPI(title="Charter", version=__version__, lifespan=lifespan,
                  description="Keeps the promises a privacy policy makes.")
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = sessions
    app.state.keyring = keyring
    app.state.decider = decider
    app.state.keys = KeyCache(sessions)
    errors.install(app)
    app.add_middleware(BannerCors)
    for module in (policies, subjects, consents, decisions, banner):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/.well-known/gpc.json", include_in_schema=False)
    def gpc() -> JSONResponse:
        return JSONResponse(GPC_SUPPORT)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
