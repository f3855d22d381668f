"""The harness itself: a real server, a real browser, a real click."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from tests.live import live_server


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/", response_class=HTMLResponse)
    def home() -> str:
        return ("<html><body><button id=b onclick=\"document.getElementById('out').textContent='clicked'\">"
                "go</button><p id=out></p></body></html>")

    return app


def test_chromium_clicks_a_button_on_a_live_server(page: Any) -> None:
    with live_server(_app()) as base:
        page.goto(base + "/")
        page.click("#b")
        assert page.text_content("#out") == "clicked"
