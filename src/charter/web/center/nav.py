"""The privacy centre's menu. Placeholders (no path) are hidden until their page is built: sign-in by one-time
code, what we hold, consents and requests come with issues 3 and 4."""

from __future__ import annotations

from charter.web.ui import N_, NavItem

CENTER_NAV: tuple[NavItem, ...] = (
    NavItem("policy", N_("Privacy policy"), "/center/{controller}"),
    NavItem("versions", N_("Versions and changes"), "/center/{controller}/versions"),
    NavItem("data", N_("What we hold about you"), None),
    NavItem("consents", N_("Your consents"), None),
    NavItem("requests", N_("Your requests"), None),
    NavItem("sign_in", N_("Sign in"), None),
)
