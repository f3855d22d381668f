"""Errors on pages: an HTML page in the visitor's language (the API keeps its JSON errors)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from charter.core.errors import Unauthorized
from charter.web.ui.i18n import N_
from charter.web.ui.templates import render

AREAS: dict[str, str] = {}
"""Path prefix → the layout its error pages extend. Each area (admin console, privacy centre) registers itself."""


def register_area(prefix: str, layout: str) -> None:
    AREAS[prefix] = layout


def area_of(path: str) -> str | None:
    return next((prefix for prefix in AREAS if path == prefix or path.startswith(prefix + "/")), None)


class SignInRequired(Unauthorized):
    """Raised by an area's session dependency; the visitor is sent to `location` to sign in."""

    def __init__(self, location: str) -> None:
        super().__init__("sign in first")
        self.location = location


MESSAGES: dict[int | str, tuple[str, str]] = {
    400: (N_("Something was not right"), N_("Check what you entered and try again.")),
    403: (N_("Not allowed"), N_("Your role does not allow this page or action. Ask an administrator if you "
                                "need it.")),
    "csrf": (N_("This form has expired"), N_("Go back, reload the page and send the form again.")),
    "guardian": (N_("Your parent or guardian must do this"),
                 N_("You are under the age at which you can decide this on your own. Ask your parent or guardian "
                    "to sign in to this privacy centre as your guardian.")),
    404: (N_("Not found"), N_("There is no such page here. Check the address.")),
    405: (N_("Not allowed"), N_("This page cannot be used that way.")),
    409: (N_("Already done differently"), N_("This conflicts with what is already stored. Reload the page and "
                                             "check.")),
    429: (N_("Too many attempts"), N_("Wait a few minutes and try again.")),
    500: (N_("Something went wrong"), N_("This is our fault. Try again later.")),
}


def error_page(request: Request, status: int, code: str = "") -> Response:
    """The error page for `status` (or a special `code`, such as `csrf`), in the area's layout."""
    prefix = area_of(request.url.path)
    title, explanation = MESSAGES.get(code) or MESSAGES.get(status) or MESSAGES[400 if status < 500 else 500]
    layout = AREAS.get(prefix or "", "ui/base.html")
    return render(request, "errors/error.html",
                  {"layout": layout, "status": status, "title": title, "explanation": explanation},
                  status=status)


def sign_in_redirect(exc: SignInRequired) -> Response:
    return RedirectResponse(exc.location, status_code=303)


def is_page(request: Request) -> bool:
    return area_of(request.url.path) is not None


__all__ = ["AREAS", "SignInRequired", "area_of", "error_page", "is_page", "register_area",
           "sign_in_redirect"]
