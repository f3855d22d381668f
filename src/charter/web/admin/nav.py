"""The admin console's menu. Placeholders (no path) are hidden until their page exists; give one a path when
its page is built, with the same role its route requires."""

from __future__ import annotations

from charter.accounts.models import Role
from charter.web.ui import N_, NavItem

ADMIN_NAV: tuple[NavItem, ...] = (
    NavItem("dashboard", N_("Dashboard"), "/admin", Role.VIEWER),
    NavItem("requests", N_("Requests"), None, Role.OPERATOR),  # issue 4: the request queue
    NavItem("consents", N_("Consents"), None, Role.VIEWER),  # issue 3: statistics per purpose
    NavItem("policies", N_("Policies"), "/admin/policies", Role.VIEWER),
    NavItem("datamap", N_("Data map"), None, Role.VIEWER),  # the data map view
    NavItem("recipients", N_("Recipients"), None, Role.VIEWER),  # recipients view
    NavItem("audit", N_("Audit log"), "/admin/audit", Role.PRIVACY_OFFICER),
    NavItem("staff", N_("Staff"), "/admin/staff", Role.ADMIN),
)
