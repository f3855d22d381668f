"""Signed cookies: HttpOnly, SameSite=Lax, and Secure whenever the site is served over https."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request, Response
from itsdangerous import BadSignature, TimestampSigner


@dataclass(frozen=True)
class SessionCookie:
    """Where an area keeps its session token: the admin console under `/admin`, the privacy centre later."""

    name: str
    path: str


SESSION_COOKIES: list[SessionCookie] = []
"""Every session cookie; form tokens are bound to whichever of them the browser sends (see `csrf`)."""


def session_cookie(name: str, path: str) -> SessionCookie:
    cookie = SessionCookie(name, path)
    SESSION_COOKIES.append(cookie)
    return cookie


def is_secure(request: Request) -> bool:
    return request.url.scheme == "https" or str(request.app.state.settings.base_url).startswith("https://")


def _signer(request: Request, cookie: SessionCookie) -> TimestampSigner:
    return TimestampSigner(request.app.state.ui.secret, salt=f"charter.cookie.{cookie.name}")


def read_token(request: Request, cookie: SessionCookie, *, max_age: int) -> str | None:
    """The session token the cookie carries, if its signature is ours and it is younger than `max_age` seconds."""
    value = request.cookies.get(cookie.name)
    if not value:
        return None
    try:
        return _signer(request, cookie).unsign(value, max_age=max_age).decode()
    except BadSignature:
        return None


def write_token(response: Response, request: Request, cookie: SessionCookie, token: str, *, max_age: int) -> None:
    response.set_cookie(cookie.name, _signer(request, cookie).sign(token).decode(), max_age=max_age,
                        path=cookie.path, secure=is_secure(request), httponly=True, samesite="lax")


def clear_token(response: Response, request: Request, cookie: SessionCookie) -> None:
    response.delete_cookie(cookie.name, path=cookie.path, secure=is_secure(request), httponly=True, samesite="lax")
