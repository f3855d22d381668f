"""Translatable names for the values pages show: roles, change materiality, promise coverage, appeal states,
recipient notices."""

from __future__ import annotations

from charter.accounts.models import Role
from charter.connectors.base import Strategy
from charter.policy.coverage import CoverageStatus
from charter.policy.diff import ChangeKind, Materiality
from charter.requests.appeals import OPEN
from charter.requests.automated import AppealOutcome
from charter.subjects.normalise import IdentityKind
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

APPEAL_STATES: dict[str, str] = {
    OPEN: N_("Waiting for review"),
    AppealOutcome.UPHELD: N_("Upheld"),
    AppealOutcome.OVERTURNED: N_("Overturned"),
}

NOTICE_ACTIONS: dict[str, str] = {
    "erasure": N_("Erase"),
    "rectification": N_("Correct"),
}

STRATEGIES: dict[str, str] = {
    Strategy.DELETE_ROW: N_("Delete the row"),
    Strategy.NULLIFY: N_("Empty the field"),
    Strategy.MASK: N_("Replace with a fixed value"),
    Strategy.HASH: N_("Replace with a keyed hash"),
    Strategy.GENERALISE: N_("Make less precise"),
    Strategy.KEEP: N_("Keep under a retention rule"),
}

IDENTITY_KINDS: dict[str, str] = {
    IdentityKind.EMAIL: N_("Email address"),
    IdentityKind.PHONE: N_("Phone number"),
    IdentityKind.ACCOUNT_ID: N_("Account id"),
    IdentityKind.VISITOR_ID: N_("Visitor id"),
}

WHILE: dict[str, str] = {
    "account_active": N_("while the account exists"),
    "purpose_active": N_("while the purpose lasts"),
}
