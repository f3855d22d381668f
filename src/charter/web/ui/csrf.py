"""Form tokens against cross-site request forgery: a signed double-submit token bound to the session.

The browser holds a random nonce in the `charter_csrf` cookie; every form carries
`HMAC(secret, nonce | session cookies)`. A POST whose token does not match is refused with 403 before the
route runs (`verify_csrf` is a dependency of every page router). Someone who can plant a cookie still cannot
make a matching token without the server's secret, and signing in changes the session cookie, so tokens issued
before sign-in stop working after it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request, Response

from charter.core.errors import Forbidden
from charter.web.ui.cookies import SESSION_COOKIES, is_secure

COOKIE = "charter_csrf"
FIELD = "csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfRejected(Forbidden):
    code = "csrf"


def _nonce(request: Request) -> str | None:
    value = request.cookies.get(COOKIE, "")
    return value if 20 <= len(value) <= 64 and value.replace("-", "").replace("_", "").isalnum() else None


def _expected(request: Request, nonce: str) -> str:
    bound = "|".join(request.cookies.get(c.name, "") for c in SESSION_COOKIES)
    message = f"csrf|{nonce}|{bound}".encode()
    return hmac.new(request.app.state.ui.secret, message, hashlib.sha256).hexdigest()


def csrf_token(request: Request) -> str:
    """The token for forms on this page; issues a nonce cookie (set by `render`) if the browser has none."""
    nonce = _nonce(request) or getattr(request.state, "new_csrf_nonce", None)
    if nonce is None:
        nonce = secrets.token_urlsafe(24)
        request.state.new_csrf_nonce = nonce
    return _expected(request, nonce)


def set_nonce_cookie(request: Request, response: Response) -> None:
    nonce = getattr(request.state, "new_csrf_nonce", None)
    if nonce is not None:
        response.set_cookie(COOKIE, nonce, path="/", secure=is_secure(request), httponly=True, samesite="lax")


async def verify_csrf(request: Request) -> None:
    """Refuse any unsafe request whose form lacks the token matching this browser's cookies."""
    if request.method in SAFE_METHODS:
        return
    nonce = _nonce(request)
    sent = (await request.form()).get(FIELD) if nonce else None
    if nonce is None or not isinstance(sent, str) or not hmac.compare_digest(sent, _expected(request, nonce)):
        raise CsrfRejected("the form's security token is missing or does not match",
                           fix="Reload the page and send the form again.")
