"""The privacy centre under `/center/{controller}`: the public pages now; the personal ones (sign-in by one-time
code, what we hold, consents, requests) slot in beside them, into the same layout and menu."""

from fastapi import APIRouter, Depends

from charter.web.center import policy
from charter.web.ui import register_area, verify_csrf

LAYOUT = "center/base.html"
register_area("/center", LAYOUT)

PREFIX = "/center"
PAGES = (policy,)
"""Each module's `router` is mounted under `/center`; add a new page module here."""

router = APIRouter(dependencies=[Depends(verify_csrf)], include_in_schema=False)
for module in PAGES:
    router.include_router(module.router, prefix=PREFIX)

__all__ = ["PAGES", "PREFIX", "router"]
