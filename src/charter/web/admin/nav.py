"""The admin console's menu. Placeholders (no path) are hidden until their page exists; give one a path when
its page is built, with the same role its route requires."""

from __future__ import annotations

from charter.accounts.models import Role
from charter.web.ui import N_, NavItem

ADMIN_NAV: tuple[NavItem, ...] = (
    NavItem("dashboard", N_("Dashboard"), "/admin", Role.VIEWER),
    NavItem("requests", N_("Requests"), "/admin/requests", Role.VIEWER),
    NavItem("appeals", N_("Appeals"), "/admin/appeals", Role.VIEWER),
    NavItem("consents", N_("Consents"), "/admin/consents", Role.VIEWER),
    NavItem("policies", N_("Policies"), "/admin/policies", Role.VIEWER),
    NavItem("datamap", N_("Data map"), "/admin/datamap", Role.VIEWER),
    NavItem("recipients", N_("Recipients"), "/admin/recipients", Role.VIEWER),
    NavItem("audit", N_("Audit log"), "/admin/audit", Role.PRIVACY_OFFICER),
    NavItem("staff", N_("Staff"), "/admin/staff", Role.ADMIN),
)
