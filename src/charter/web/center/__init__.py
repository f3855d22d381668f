"""The privacy centre under `/center/{controller}`: the public pages (the policy, its versions and changes) and the
personal ones behind sign-in (what we hold, consents, requests, and the re-consent question after a change), for the
person or for a minor's guardian."""

from fastapi import APIRouter, Depends

from charter.web.center import consents, data, guardian, policy, reconsent, requests, sign_in
from charter.web.ui import register_area, verify_csrf

LAYOUT = "center/base.html"
register_area("/center", LAYOUT)

PREFIX = "/center"
PAGES = (policy, sign_in, guardian, reconsent, data, consents, requests)
"""Each module's `router` is mounted under `/center`; add a new page module here."""

router = APIRouter(dependencies=[Depends(verify_csrf)], include_in_schema=False)
for module in PAGES:
    router.include_router(module.router, prefix=PREFIX)

__all__ = ["PAGES", "PREFIX", "router"]
