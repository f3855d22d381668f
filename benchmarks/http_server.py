"""The app the HTTP benchmark serves: Charter as `charter serve` builds it, plus one bare FastAPI endpoint on the
same server for the baseline (`uvicorn benchmarks.http_server:app --factory`)."""

from __future__ import annotations

from fastapi import FastAPI

from charter.web.app import create_app


def app() -> FastAPI:
    charter = create_app()

    @charter.post("/bench/bare", include_in_schema=False)
    async def bare() -> dict[str, bool]:
        return {"ok": True}

    return charter
