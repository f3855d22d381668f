"""The privacy centre's menu: the public pages for everyone, the personal ones once signed in."""

from __future__ import annotations

from charter.web.ui import N_, NavItem

CENTER_NAV: tuple[NavItem, ...] = (
    NavItem("policy", N_("Privacy policy"), "/center/{controller}"),
    NavItem("versions", N_("Versions and changes"), "/center/{controller}/versions"),
    NavItem("data", N_("What we hold about you"), "/center/{controller}/data"),
    NavItem("consents", N_("Your consents"), "/center/{controller}/consents"),
    NavItem("requests", N_("Your requests"), "/center/{controller}/requests"),
)
