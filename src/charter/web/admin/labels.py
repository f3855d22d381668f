"""Translatable names for the values pages show: roles, change materiality, promise coverage."""

from __future__ import annotations

from charter.accounts.models import Role
from charter.policy.coverage import CoverageStatus
from charter.policy.diff import ChangeKind, Materiality
from charter.web.ui import N_

ROLES: dict[str, str] = {
    Role.VIEWER: N_("Viewer"),
    Role.OPERATOR: N_("Operator"),
    Role.PRIVACY_OFFICER: N_("Privacy officer"),
    Role.ADMIN: N_("Administrator"),
}

MATERIALITY: dict[str, str] = {
    Materiality.NEEDS_FRESH_CONSENT: N_("Needs fresh consent"),
    Materiality.NOTICE_ONLY: N_("Notice only"),
}

CHANGE_KINDS: dict[str, str] = {
    ChangeKind.ADDED: N_("Added"),
    ChangeKind.REMOVED: N_("Removed"),
    ChangeKind.CHANGED: N_("Changed"),
}

COVERAGE: dict[str, str] = {
    CoverageStatus.ENFORCED: N_("Enforced"),
    CoverageStatus.PARTIAL: N_("Partly enforced"),
    CoverageStatus.NOT_YET: N_("Not yet"),
}
