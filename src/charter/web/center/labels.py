"""Translatable names for the values the personal pages show: legal bases, request kinds and states, consent
states, recipient roles."""

from __future__ import annotations

from charter.consent.models import ConsentStatus
from charter.jurisdictions import RequestKind
from charter.policy.schema import LegalBasis, RecipientRole
from charter.requests.lifecycle import Status
from charter.web.ui import N_

LEGAL_BASES: dict[str, str] = {
    LegalBasis.CONSENT: N_("your consent"),
    LegalBasis.CONTRACT: N_("needed for the service you signed up for"),
    LegalBasis.LEGAL_DUTY: N_("required by law"),
    LegalBasis.EMERGENCY: N_("to protect life, health or property in an emergency"),
    LegalBasis.NEWS: N_("news reporting in the public interest"),
    LegalBasis.PUBLIC_INFO: N_("information you or the law already made public"),
    LegalBasis.OTHER_LAW: N_("another law allows it"),
}

REQUEST_KINDS: dict[str, str] = {
    RequestKind.ACCESS: N_("Copy of my data"),
    RequestKind.PORTABILITY: N_("My data for another service"),
    RequestKind.RECTIFICATION: N_("Correct my data"),
    RequestKind.ERASURE: N_("Delete my data"),
    RequestKind.RESTRICTION: N_("Restrict the use of my data"),
    RequestKind.WITHDRAWAL: N_("Withdraw consent"),
    RequestKind.CANCELLATION: N_("Cancel my account"),
    RequestKind.EXPLANATION: N_("Explain an automated decision"),
}

REQUEST_STATES: dict[str, str] = {
    Status.RECEIVED: N_("Received"),
    Status.IDENTITY_VERIFIED: N_("Waiting for review"),
    Status.APPROVED: N_("Approved"),
    Status.REFUSED: N_("Refused"),
    Status.PLANNED: N_("In progress"),
    Status.EXECUTING: N_("In progress"),
    Status.COMPLETED: N_("Done"),
    Status.COMPLETED_WITH_HELD_ITEMS: N_("Done, some data kept"),
    Status.FAILED: N_("Stopped by an error; staff will retry"),
}

CONSENT_STATES: dict[str, str] = {
    ConsentStatus.GRANTED: N_("Given"),
    ConsentStatus.REFUSED: N_("Refused"),
    ConsentStatus.WITHDRAWN: N_("Withdrawn"),
    ConsentStatus.EXPIRED: N_("Expired"),
    ConsentStatus.SUPERSEDED: N_("Asked again after a policy change"),
}

CONSENT_ACTIONS: dict[str, str] = {
    "grant": N_("Given"),
    "guardian_grant": N_("Given by a guardian"),
    "refuse": N_("Refused"),
    "withdraw": N_("Withdrawn"),
    "expire": N_("Expired"),
    "supersede": N_("Asked again after a policy change"),
}

RECIPIENT_ROLES: dict[str, str] = {
    RecipientRole.AFFILIATE: N_("Affiliate"),
    RecipientRole.PROCESSOR: N_("Processes it on our behalf"),
    RecipientRole.PARTNER: N_("Partner"),
    RecipientRole.INDEPENDENT_CONTROLLER: N_("Independent controller (its own terms apply)"),
    RecipientRole.AUTHORITY: N_("Authority"),
}
