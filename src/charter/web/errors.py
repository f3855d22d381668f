"""Every API error leaves as JSON saying what was wrong and how to fix it; on pages, as a page (`ui.errors`)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from charter.core.errors import CharterError
from charter.web.ui import errors as pages


def error_body(exc: CharterError) -> dict[str, Any]:
    body: dict[str, Any] = {"code": exc.code, "message": exc.message}
    if exc.fix:
        body["fix"] = exc.fix
    if exc.field:
        body["field"] = exc.field
    problems = getattr(exc, "problems", None)
    if problems:
        body["problems"] = [
            {"file": p.file, "line": p.line, "path": p.path, "message": p.message, "fix": p.fix} for p in problems
        ]
    return {"error": body}


async def _charter_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CharterError)  # noqa: S101 - registered for CharterError only
    if pages.is_page(request):
        if isinstance(exc, pages.SignInRequired):
            return pages.sign_in_redirect(exc)
        return pages.error_page(request, exc.status, exc.code)
    return JSONResponse(error_body(exc), status_code=exc.status)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)  # noqa: S101 - registered for it only
    if pages.is_page(request):
        return pages.error_page(request, exc.status_code)
    return await http_exception_handler(request, exc)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)  # noqa: S101 - registered for it only
    if pages.is_page(request):
        return pages.error_page(request, 400)
    problems = [{"field": _field(e["loc"]), "message": e["msg"]} for e in exc.errors()]
    first = problems[0]["field"] if problems else ""
    return JSONResponse({"error": {"code": "invalid", "field": first,
                                   "message": f"the request is not valid: {problems[0]['message'] if problems else ''}",
                                   "problems": problems}}, status_code=422)


def _field(loc: tuple[int | str, ...]) -> str:
    """The field's path in the request body (or query), without FastAPI's leading location; a field may itself be
    called `body`."""
    parts = loc[1:] if loc and loc[0] in ("body", "query", "path", "header") else loc
    return ".".join(str(p) for p in parts)


def install(app: FastAPI) -> None:
    app.add_exception_handler(CharterError, _charter_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
