"""The schema of one policy version (`charter.policy/v1`).

A policy version is the whole published privacy policy of one controller as data: who the controller is, the
data categories it holds, the purposes it uses them for (each with a PIPL art. 13 legal basis and a consent
kind), the recipients it shares with, the rights it offers, and the published text as clauses in zh and en,
each clause naming the promise ids it makes.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from charter.core.i18n import Text

SCHEMA_ID = "charter.policy/v1"

_SLUG = r"^[a-z][a-z0-9_-]{1,62}$"
_CATEGORY_ID = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$"
_PROMISE_ID = r"^(LUB|LAN)-[A-Z0-9-]+$"
_REGION = r"^[A-Z]{2}$"

WHOLE_POLICY = "policy"
"""Not a purpose: the consent ledger records acceptance of the policy as a whole (LUB-ACCEPT) under this name, so no
purpose may take it (`charter policy check` refuses it)."""


def _non_blank_text(value: Text) -> Text:
    for lang, s in (("zh", value.zh), ("en", value.en)):
        if not s.strip():
            raise ValueError(f"the {lang} text is empty: every text needs both a zh and an en version")
    return value


LocalText = Annotated[Text, AfterValidator(_non_blank_text)]
Slug = Annotated[str, Field(pattern=_SLUG)]
CategoryId = Annotated[str, Field(pattern=_CATEGORY_ID)]
PromiseId = Annotated[str, Field(pattern=_PROMISE_ID)]
Region = Annotated[str, Field(pattern=_REGION, description="ISO 3166-1 alpha-2; CN means mainland China")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class JurisdictionCode(StrEnum):
    CN = "CN"
    HK = "HK"
    EU = "EU"


class LegalBasis(StrEnum):
    """PIPL art. 13. There is no 'legitimate interests'."""

    CONSENT = "consent"
    CONTRACT = "contract"
    LEGAL_DUTY = "legal_duty"
    EMERGENCY = "emergency"
    NEWS = "news"
    PUBLIC_INFO = "public_info"
    OTHER_LAW = "other_law"


class ConsentKind(StrEnum):
    NONE = "none"
    GENERAL = "general"
    SEPARATE = "separate"
    GUARDIAN = "guardian"
    WRITTEN = "written"


class RecipientRole(StrEnum):
    AFFILIATE = "affiliate"
    PROCESSOR = "processor"
    PARTNER = "partner"
    INDEPENDENT_CONTROLLER = "independent_controller"
    AUTHORITY = "authority"


class ContactKind(StrEnum):
    PI_PROTECTION_OFFICER = "pi_protection_officer"
    COMPLAINTS = "complaints"
    BUSINESS = "business"
    LEGAL = "legal"
    CUSTOMER_SERVICE = "customer_service"
    PHONE = "phone"
    POSTAL = "postal"


class Right(StrEnum):
    ACCESS = "access"
    COPY = "copy"
    PORTABILITY = "portability"
    RECTIFICATION = "rectification"
    ERASURE = "erasure"
    RESTRICTION = "restriction"
    WITHDRAWAL = "withdrawal"
    CANCELLATION = "cancellation"
    EXPLANATION = "explanation"
    COMPLAINT = "complaint"


class Channel(StrEnum):
    SELF_SERVICE = "self_service"
    PRIVACY_CENTRE = "privacy_centre"
    EMAIL = "email"
    CUSTOMER_SERVICE = "customer_service"
    PHONE = "phone"
    POST = "post"


class CookieCategory(StrEnum):
    """Banner groups; a purpose that rests on cookies names one."""

    STRICTLY_NECESSARY = "strictly_necessary"
    PREFERENCES = "preferences"
    ANALYTICS = "analytics"
    MARKETING = "marketing"
    EMAIL_TRACKING = "email_tracking"


class CrossBorderBasis(StrEnum):
    LEGAL_REQUIREMENT = "legal_requirement"
    EXPLICIT_CONSENT = "explicit_consent"
    USER_PUBLICATION = "user_publication"
    CAC_SECURITY_ASSESSMENT = "cac_security_assessment"
    CERTIFICATION = "certification"
    STANDARD_CONTRACT = "standard_contract"


class MinorsPolicy(StrEnum):
    GUARDIAN_CONSENT = "guardian_consent"
    REFUSE = "refuse"


class Contact(_Model):
    kind: ContactKind
    label: LocalText
    value: str = Field(min_length=1)


class Controller(_Model):
    id: Slug
    name: LocalText
    address: LocalText
    website: str = Field(min_length=1)
    contacts: list[Contact] = Field(min_length=1)


class Category(_Model):
    id: CategoryId
    label: LocalText
    is_sensitive: bool = False
    sensitivity_basis: str | None = Field(
        default=None, description="Why it is sensitive: PIPL art. 28 or GB/T 35273 App. B item"
    )


class Retention(_Model):
    days: int | None = Field(default=None, ge=1, description="Fixed period after collection")
    while_: Literal["account_active", "purpose_active"] | None = Field(default=None, alias="while")
    after_days: int | None = Field(default=None, ge=0, description="Kept this long after `while` ends")
    text: LocalText


class Purpose(_Model):
    id: Slug
    label: LocalText
    description: LocalText
    legal_basis: LegalBasis
    is_essential: bool = Field(description="The basic service cannot be provided without it")
    consent: ConsentKind
    categories: list[CategoryId] = Field(min_length=1)
    retention: Retention
    cookie_category: CookieCategory | None = None
    is_public_disclosure: bool = False


class Recipient(_Model):
    id: Slug
    name: LocalText
    role: RecipientRole
    contact: str | None = None
    method: LocalText | None = Field(default=None, description="How the recipient processes (PIPL art. 23)")
    purposes: list[Slug] = Field(min_length=1)
    categories: list[CategoryId] = Field(min_length=1)
    region: Region
    agreement_on_file: bool = False
    is_example: bool = Field(default=False, description="The seed names no company: an illustrative recipient")
    note: LocalText | None = None


class RightOffer(_Model):
    right: Right
    channels: list[Channel] = Field(min_length=1)
    text: LocalText | None = None


class LegalException(_Model):
    """A case the policy lists where no consent is needed (Lubpur's eleven)."""

    id: Slug
    label: LocalText
    basis: LegalBasis


class CrossBorder(_Model):
    bases: list[CrossBorderBasis] = Field(default_factory=list)
    impact_assessment_on_file: bool = False


class Minors(_Model):
    policy: MinorsPolicy
    age_threshold: int | None = Field(default=None, ge=1, le=21)
    rules_text: LocalText | None = None


class Clause(_Model):
    id: str = Field(min_length=1, description="The seed's own numbering, e.g. '5.(3)' or '8.4'")
    title: LocalText
    body: LocalText
    promises: list[PromiseId] = Field(default_factory=list)


class PolicyVersion(_Model):
    schema_: Literal["charter.policy/v1"] = Field(alias="schema")
    controller: Controller
    version: str = Field(min_length=1, max_length=64)
    effective: dt.date
    languages: list[str] = Field(min_length=1)
    jurisdictions: list[JurisdictionCode] = Field(min_length=1)
    storage_regions: list[Region] = Field(min_length=1)
    cross_border: CrossBorder = Field(default_factory=CrossBorder)
    minors: Minors
    categories: list[Category] = Field(min_length=1)
    purposes: list[Purpose] = Field(min_length=1)
    recipients: list[Recipient] = Field(default_factory=list)
    rights: list[RightOffer] = Field(min_length=1)
    refusal_grounds: list[str] = Field(default_factory=list)
    legal_exceptions: list[LegalException] = Field(default_factory=list)
    clauses: list[Clause] = Field(min_length=1)

    def category(self, category_id: str) -> Category | None:
        return next((c for c in self.categories if c.id == category_id), None)

    def purpose(self, purpose_id: str) -> Purpose | None:
        return next((p for p in self.purposes if p.id == purpose_id), None)

    def recipient(self, recipient_id: str) -> Recipient | None:
        return next((r for r in self.recipients if r.id == recipient_id), None)

    def promise_ids(self) -> list[str]:
        seen: dict[str, None] = {}
        for clause in self.clauses:
            for pid in clause.promises:
                seen.setdefault(pid, None)
        return list(seen)


def is_promise_id(value: str) -> bool:
    return re.fullmatch(_PROMISE_ID, value) is not None
