"""The admin console under `/admin`: staff sign-in with a second factor, then pages guarded by role.

Every route of this router checks the form token on POST (`verify_csrf`), and every page but sign-in takes a
role dependency from `charter.web.admin.session`.
"""

from fastapi import APIRouter, Depends

from charter.web.admin import appeals, audit, auth, consents, dashboard, datamap, policies, recipients, requests, staff
from charter.web.ui import register_area, verify_csrf

LAYOUT = "admin/base.html"
register_area("/admin", LAYOUT)

PREFIX = "/admin"
PAGES = (auth, dashboard, requests, appeals, consents, policies, datamap, recipients, staff, audit)
"""Each module's `router` is mounted under `/admin`; add a new page module here."""

router = APIRouter(dependencies=[Depends(verify_csrf)], include_in_schema=False)
for module in PAGES:
    router.include_router(module.router, prefix=PREFIX)

__all__ = ["PAGES", "PREFIX", "router"]
