"""What a host sends to record consent, and the vocabularies of the ledger's 27560 fields."""

from __future__ import annotations

import datetime as dt
import socket
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from charter.core.i18n import Lang
from charter.policy.schema import ConsentKind

SUBJECT_ID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
PURPOSE_ID = r"^[a-z][a-z0-9_-]{1,62}$"
# A notice is named, never quoted, so no personal data can ride in it: `registration-form`, `banner`, `clause:6`.
NOTICE = r"^[A-Za-z0-9][A-Za-z0-9_.:#/-]{0,199}$"


class Channel(StrEnum):
    WEB = "web"
    APP = "app"
    API = "api"
    EMAIL = "email"
    BANNER = "banner"
    PHONE = "phone"
    PAPER = "paper"


class CollectionMethod(StrEnum):
    CHECKBOX = "checkbox"
    BUTTON = "button"
    FORM = "form"
    DOUBLE_OPT_IN = "double_opt_in"
    SIGNATURE = "signature"
    VERBAL = "verbal"
    SETTINGS = "settings"
    UNSUBSCRIBE_LINK = "unsubscribe_link"
    GPC = "gpc"
    """Global Privacy Control: the browser refused on the person's behalf."""
    LINK = "link"
    """Carried over from a banner choice when the visitor logged in."""
    SYSTEM = "system"
    """Written by Charter itself: expiry, or a policy change needing fresh consent."""


class Relationship(StrEnum):
    PARENT = "parent"
    LEGAL_GUARDIAN = "legal_guardian"
    OTHER_GUARDIAN = "other_guardian"


class VerificationMethod(StrEnum):
    ID_DOCUMENT = "id_document"
    VIDEO_CALL = "video_call"
    SIGNED_FORM = "signed_form"
    SMS_CODE = "sms_code"
    EMAIL_CODE = "email_code"
    IN_PERSON = "in_person"
    PAYMENT_CARD = "payment_card"


_EXACT = {lang.value: lang.value for lang in Lang}


def _language(value: str) -> str:
    return _EXACT.get(value) or Lang.parse(value).value


Language = Annotated[str, AfterValidator(_language)]


def _ip(value: str) -> str:
    # inet_pton is C: the ipaddress module costs more than the rest of an event's checks together.
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            return socket.inet_ntop(family, socket.inet_pton(family, value))
        except OSError:
            continue
    raise ValueError("value is not a valid IPv4 or IPv6 address")


IpAddress = Annotated[str, Field(max_length=64), AfterValidator(_ip)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EvidenceIn(_In):
    ip: IpAddress | None = None
    user_agent: str | None = Field(default=None, max_length=500)
    gpc: bool = False
    """The browser sent `Sec-GPC: 1` or `navigator.globalPrivacyControl` was true."""
    request_id: str | None = Field(default=None, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")
    """The host's own request id, to find the request in its logs."""


class GuardianIn(_In):
    """Every field is required: a guardian consent without any of them is refused (LUB-MINORS)."""

    name: str = Field(min_length=1, max_length=200)
    relationship: Relationship
    contact: str = Field(min_length=3, max_length=200)
    verification_method: VerificationMethod
    verified_at: dt.datetime
    rules_version: str = Field(min_length=1, max_length=64,
                               description="the policy version whose minors' rules were shown to the guardian")


class ConsentIn(_In):
    """One consent event, as a host records it: `{"subject_id": …, "purpose": "marketing_email"}` grants."""

    subject_id: str = Field(pattern=SUBJECT_ID)
    purpose: str = Field(pattern=PURPOSE_ID)
    action: Literal["grant", "refuse", "withdraw", "guardian_grant"] = "grant"
    consent_kind: ConsentKind | None = None
    """Defaults to the kind the purpose asks for; a weaker kind is refused."""
    policy_version: str | None = Field(default=None, max_length=64)
    """The version whose notice was shown; defaults to the one in force."""
    notice: str = Field(default="policy", pattern=NOTICE)
    language: Language | None = None
    method: CollectionMethod = CollectionMethod.BUTTON
    channel: Channel = Channel.API
    jurisdiction: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    valid_until: dt.datetime | None = None
    evidence: EvidenceIn = Field(default_factory=EvidenceIn)
    guardian: GuardianIn | None = None


class WithdrawIn(_In):
    purpose: str = Field(pattern=PURPOSE_ID)
    channel: Channel = Channel.API
    method: CollectionMethod = CollectionMethod.SETTINGS
    language: Language | None = None
    evidence: EvidenceIn = Field(default_factory=EvidenceIn)


class AcceptanceIn(_In):
    """The person accepted the policy as a whole (LUB-ACCEPT), e.g. ticking "I have read and accept" at
    registration: `{"channel": "web", "evidence": {"ip": "203.0.113.9"}}`. Not a consent to any purpose: purposes
    resting on consent are still asked one by one."""

    policy_version: str | None = Field(default=None, max_length=64)
    """The version that was shown; defaults to the one in force."""
    notice: str = Field(default="policy", pattern=NOTICE)
    language: Language | None = None
    method: CollectionMethod = CollectionMethod.CHECKBOX
    channel: Channel = Channel.API
    jurisdiction: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    evidence: EvidenceIn = Field(default_factory=EvidenceIn)
