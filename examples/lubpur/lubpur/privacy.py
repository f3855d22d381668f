"""Every place Lubpur meets Charter, behind one small interface.

The platform never asks "may I?" anywhere else: pages and services call `Privacy` and act on its answer. Each
method's docstring names the Charter call it stands for (`charter.sdk.Client`, being built alongside).

`LocalPrivacy` is what runs until the SDK is wired (step 2). It does not imitate Charter: it keeps the
platform's own records (what each person chose here, in `consent_choices`; what Charter must be told, in
`charter_reports`, written in the same transaction as the change) and answers `decide` from them, denying by
default: a non-essential purpose is allowed only after this person's own "yes", never for a suspended account,
never for a minor without a guardian's confirmed consent. It has no privacy-centre link and no banner, and says so.
Step 2 adds `CharterPrivacy` (same methods, SDK calls) and delivers the rows left in `charter_reports` and
`consent_choices` whose `reported_at`/`delivered_at` is empty.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from lubpur.db import utcnow
from lubpur.models import CharterReport, ConsentChoice, GuardianConsent, User
from lubpur.policy import PolicyInfo
from lubpur.settings import Settings

# The purposes a person can say yes or no to on Lubpur's own pages (the rest are Charter's banner and centre).
CHOICE_PURPOSES = ("personalisation", "marketing_email", "email_tracking")
# What a suspended account is still processed for: keeping it secure, answering it, and the law.
SUSPENDED_ALLOWED = frozenset({"account", "security", "customer_service", "legal_disclosure"})
RECOMMENDER_VERSION = "lubpur-reco-1"


@dataclass(frozen=True)
class Subject:
    """A person as Charter will know them: the Lubpur account id, and the email/phone identities."""

    user_id: int | None = None
    email: str = ""
    phone: str = ""

    def identities(self) -> dict[str, str]:
        found = {"lubpur_account": str(self.user_id) if self.user_id else "", "email": self.email, "phone": self.phone}
        return {k: v for k, v in found.items() if v}


@dataclass(frozen=True)
class Evidence:
    """How a choice was made (ISO/IEC TS 27560 fields Charter records)."""

    method: str
    ip: str = ""
    user_agent: str = ""
    lang: str = "zh-CN"


@dataclass(frozen=True)
class Guardian:
    name: str
    relationship: str
    email: str
    phone: str


@dataclass(frozen=True)
class Decision:
    purpose: str
    is_allowed: bool
    basis: str
    reasons: tuple[str, ...]
    obligations: frozenset[str] = field(default_factory=frozenset)
    # "local" until step 2: the answer comes from Lubpur's own records, not from Charter.
    source: str = "local"


class Privacy(Protocol):
    def policy(self) -> PolicyInfo:
        """The current published policy. Charter: `client.policy()` (GET /v1/policies, current version + hash)."""

    def record_policy_acceptance(self, subject: Subject, evidence: Evidence) -> None:
        """Registration or re-acceptance of the exact version. Charter: `client.record_consent(subject,
        purposes=<essential purposes>, policy_version=…, method=…, evidence=…)`."""

    def record_choice(self, subject: Subject, purpose: str, *, is_granted: bool, evidence: Evidence) -> None:
        """A yes or a no to one purpose. Charter: `client.record_consent(...)` / `client.withdraw(...)`."""

    def record_guardian_consent(self, subject: Subject, guardian: Guardian, evidence: Evidence) -> None:
        """A guardian confirmed a minor's account. Charter: `client.record_consent(kind="guardian_grant", …)`."""

    def decide(self, subject: Subject, purpose: str) -> Decision:
        """May this person's data be used for `purpose` now? Charter: `client.decide(subject, purpose)`."""

    def choices(self, subject: Subject) -> dict[str, bool]:
        """Current yes/no for each purpose in CHOICE_PURPOSES (for the personal centre)."""

    def report_automated_decision(self, subject: Subject, *, kind: str, inputs: dict[str, Any],
                                  outputs: list[int]) -> None:
        """A recommendation was made for this person. Charter: `client.report_automated_decision(...)`."""

    def report_suspension(self, subject: Subject, *, reason: str) -> None:
        """The person reported unauthorised use; the account is suspended. Charter: `client.report_suspension`."""

    def report_login(self, subject: Subject, evidence: Evidence, *, succeeded: bool) -> None:
        """A login attempt on an existing account. Charter: `client.report_login(...)`."""

    def privacy_centre_link(self, subject: Subject, lang: str) -> str | None:
        """A signed, short-lived link into Charter's privacy centre. Charter: `client.privacy_centre_link(...)`."""

    def banner_tag(self, lang: str) -> str | None:
        """The `<script>` tag of Charter's consent banner, with the publishable key."""


class LocalPrivacy:
    """Lubpur's own records, deny by default; see the module docstring."""

    def __init__(self, session: Session, settings: Settings, policy: PolicyInfo) -> None:
        self.session = session
        self.settings = settings
        self._policy = policy

    def policy(self) -> PolicyInfo:
        return self._policy

    def record_policy_acceptance(self, subject: Subject, evidence: Evidence) -> None:
        essential = [p.id for p in self._policy.purposes.values() if p.is_essential and p.consent == "none"]
        self._report("policy_acceptance", subject, {"policy_version": self._policy.version, "purposes": essential,
                                                    **_evidence(evidence)})

    def record_choice(self, subject: Subject, purpose: str, *, is_granted: bool, evidence: Evidence) -> None:
        if purpose not in self._policy.purposes:
            raise ValueError(f"{purpose!r} is not a purpose of policy {self._policy.version}")
        self.session.add(ConsentChoice(
            user_id=subject.user_id, email=subject.email, purpose=purpose, is_granted=is_granted,
            kind="grant" if is_granted else "withdraw", policy_version=self._policy.version, method=evidence.method,
            ip=evidence.ip, user_agent=evidence.user_agent[:300]))
        self.session.flush()

    def record_guardian_consent(self, subject: Subject, guardian: Guardian, evidence: Evidence) -> None:
        self.session.add(ConsentChoice(
            user_id=subject.user_id, email=subject.email, purpose="minors", is_granted=True, kind="guardian_grant",
            policy_version=self._policy.version, method=evidence.method, ip=evidence.ip,
            user_agent=evidence.user_agent[:300]))
        self.session.flush()

    def decide(self, subject: Subject, purpose: str) -> Decision:  # noqa: PLR0911 - one return per reason code
        purpose_def = self._policy.purposes.get(purpose)
        if purpose_def is None:
            return Decision(purpose, False, "", ("undeclared_purpose",))
        user = self.session.get(User, subject.user_id) if subject.user_id else None
        if user is not None and user.status == "suspended" and purpose not in SUSPENDED_ALLOWED:
            return Decision(purpose, False, "", ("account_suspended",))
        if purpose_def.is_essential and purpose_def.consent == "none":
            return Decision(purpose, True, "contract_or_law", ("essential",))
        if user is not None and user.age_band == "minor" and not self._has_guardian_consent(user.id):
            return Decision(purpose, False, "", ("minor_without_guardian_consent",))
        latest = self._latest(subject, purpose)
        if latest is None:
            return Decision(purpose, False, "", ("no_consent",))
        if not latest.is_granted:
            return Decision(purpose, False, "", ("consent_withdrawn",))
        return Decision(purpose, True, "consent", ("consent_granted",), self._obligations(purpose))

    def choices(self, subject: Subject) -> dict[str, bool]:
        return {p: self.decide(subject, p).is_allowed for p in CHOICE_PURPOSES}

    def report_automated_decision(self, subject: Subject, *, kind: str, inputs: dict[str, Any],
                                  outputs: list[int]) -> None:
        payload = {"kind": kind, "logic_version": RECOMMENDER_VERSION, "inputs": inputs, "outputs": outputs}
        digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
        last = self.session.scalars(
            select(CharterReport).where(CharterReport.kind == "automated_decision",
                                        CharterReport.user_id == subject.user_id)
            .order_by(CharterReport.id.desc()).limit(1)).first()
        if last is not None and last.payload.get("digest") == digest:
            return  # the same inputs gave the same outcome: one record explains both
        self._report("automated_decision", subject, {**payload, "digest": digest})

    def report_suspension(self, subject: Subject, *, reason: str) -> None:
        self._report("account_suspended", subject, {"reason": reason})

    def report_login(self, subject: Subject, evidence: Evidence, *, succeeded: bool) -> None:
        self._report("login", subject, {"succeeded": succeeded, **_evidence(evidence)})

    def privacy_centre_link(self, subject: Subject, lang: str) -> str | None:
        return None  # only Charter can mint it; step 2

    def banner_tag(self, lang: str) -> str | None:
        return None  # Charter serves the banner; without it every non-essential script stays blocked

    def _report(self, kind: str, subject: Subject, payload: dict[str, Any]) -> None:
        body = {"identities": subject.identities(), **payload}
        self.session.add(CharterReport(kind=kind, user_id=subject.user_id, payload=body))
        self.session.flush()

    def _latest(self, subject: Subject, purpose: str) -> ConsentChoice | None:
        who = []
        if subject.user_id:
            who.append(ConsentChoice.user_id == subject.user_id)
        if subject.email:
            who.append(ConsentChoice.email == subject.email)
        if not who:
            return None
        query = (select(ConsentChoice).where(ConsentChoice.purpose == purpose, or_(*who))
                 .order_by(ConsentChoice.id.desc()).limit(1))
        return self.session.scalars(query).first()

    def _has_guardian_consent(self, user_id: int) -> bool:
        query = select(GuardianConsent.id).where(GuardianConsent.user_id == user_id,
                                                 GuardianConsent.confirmed_at.is_not(None))
        return self.session.scalars(query).first() is not None

    def _obligations(self, purpose: str) -> frozenset[str]:
        if purpose == "marketing_email":
            # 互联网电子邮件服务管理办法 art. 13: commercial email says 广告/AD at the front of its subject.
            # The codes are the ones Charter's decisions use (`subject_prefix_ad`, `unsubscribe_link`).
            prefix = {"subject_prefix_ad"} if "CN" in self._policy.jurisdictions else set()
            return frozenset({"unsubscribe_link", *prefix})
        return frozenset()


def _evidence(evidence: Evidence) -> dict[str, Any]:
    return {"method": evidence.method, "ip": evidence.ip, "user_agent": evidence.user_agent[:300],
            "lang": evidence.lang, "at": utcnow().isoformat()}


def subject_of(user: User) -> Subject:
    return Subject(user_id=user.id, email=user.email, phone=user.phone)
