"""Every place Lubpur meets Charter, behind one small interface.

The platform never asks "may I?" anywhere else: pages and services call `Privacy` and act on its answer. Two
implementations, chosen by settings (`lubpur.web.deps.privacy_for`):

- `CharterPrivacy` (when `LUBPUR_CHARTER_URL` and the keys are set): decisions, the privacy-centre link and the
  consent banner come from Charter through its public SDK (`charter.sdk.Client`), exactly as a customer's
  platform uses it.
- `LocalPrivacy` (no Charter configured) runs Lubpur on its own. It answers from the platform's own records and
  denies by default: a non-essential purpose is allowed only after this person's own "yes", never for a
  suspended account, never for a minor without a guardian's confirmed consent. No privacy-centre link, no banner.

Both write what Charter must be told in the same transaction as the change (`consent_choices` for each yes/no,
`charter_reports` for acceptance, suspension, logins and automated decisions); `lubpur.reports.ReportDelivery`
sends those rows after commit and retries while Charter is down, so none is lost.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote

import httpx
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from charter.sdk import CharterAPIError, Client
from lubpur.db import utcnow
from lubpur.models import CharterReport, ConsentChoice, GuardianConsent, User
from lubpur.policy import PolicyInfo
from lubpur.settings import Settings

# The purposes a person can say yes or no to on Lubpur's own pages (the rest are Charter's banner and centre).
CHOICE_PURPOSES = ("personalisation", "marketing_email", "email_tracking")
# What a suspended account is still processed for: keeping it secure, answering it, and the law.
SUSPENDED_ALLOWED = frozenset({"account", "security", "customer_service", "legal_disclosure"})
RECOMMENDER_VERSION = "lubpur-reco-1"
# Asked with channel "email", so Charter's answer carries the email obligations (AD prefix, unsubscribe, no pixel).
EMAIL_PURPOSES = frozenset({"marketing_email", "email_tracking"})
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Subject:
    """A person as Charter will know them: the Lubpur account id, and the email/phone identities."""

    user_id: int | None = None
    email: str = ""
    phone: str = ""
    # Charter's id for the person, once `ReportDelivery` has registered them (kept on `users`).
    charter_subject_id: str = ""

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
    # The anonymous visitor id of the banner's first-party cookie: its choices carry over to the account at login.
    visitor_id: str = ""


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
    # "local": Lubpur's own records answered (LocalPrivacy); "charter": Charter's decision.
    source: str = "local"


class Privacy(Protocol):
    def policy(self) -> PolicyInfo:
        """The current published policy. The same document Charter publishes."""

    def record_policy_acceptance(self, subject: Subject, evidence: Evidence) -> None:
        """Registration or re-acceptance of the exact version. Delivered as the registration of the person
        (`client.register`); the version is carried by every consent event recorded with it."""

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
        """The person reported unauthorised use; the account is suspended. Charter: `client.suspend(...)`."""

    def report_login(self, subject: Subject, evidence: Evidence, *, succeeded: bool) -> None:
        """A login attempt on an existing account. Charter: `client.link_visitor(...)` when
        the banner's cookie came with it; the login record itself stays in Lubpur's `login_records`."""

    def privacy_centre_link(self, subject: Subject, lang: str) -> str | None:
        """A signed, single-use link into Charter's privacy centre, minted per click, that opens it signed in.
        Charter: `client.privacy_centre_link(...)`; the centre's sign-in page when Charter cannot mint one."""

    def banner_tag(self, lang: str) -> str | None:
        """The `<script>` tag of Charter's consent banner, with the publishable key."""


class ReportQueue:
    """The writes both gateways share: rows in the request's transaction that `ReportDelivery` sends after commit."""

    def __init__(self, session: Session, settings: Settings, policy: PolicyInfo) -> None:
        self.session = session
        self.settings = settings
        self._policy = policy
        # Set once a row is queued: the app delivers right after the request, so the next page sees it in Charter.
        self.has_queued = False

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
        self.has_queued = True

    def record_guardian_consent(self, subject: Subject, guardian: Guardian, evidence: Evidence) -> None:
        self.session.add(ConsentChoice(
            user_id=subject.user_id, email=subject.email, purpose="minors", is_granted=True, kind="guardian_grant",
            policy_version=self._policy.version, method=evidence.method, ip=evidence.ip,
            user_agent=evidence.user_agent[:300]))
        self.session.flush()
        self.has_queued = True

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
        self._report("login", subject, {"succeeded": succeeded, "visitor_id": evidence.visitor_id,
                                        **_evidence(evidence)})

    def _report(self, kind: str, subject: Subject, payload: dict[str, Any]) -> None:
        body = {"identities": subject.identities(), **payload}
        self.session.add(CharterReport(kind=kind, user_id=subject.user_id, payload=body))
        self.session.flush()
        self.has_queued = True


class LocalPrivacy(ReportQueue):
    """Lubpur without Charter: its own records, deny by default (see the module docstring)."""

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

    def privacy_centre_link(self, subject: Subject, lang: str) -> str | None:
        return None  # only Charter can give one

    def banner_tag(self, lang: str) -> str | None:
        return None  # Charter serves the banner; without it every non-essential script stays blocked

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


class CharterLink:
    """The app's one SDK client, and the subject ids it has learnt for people (by account or email)."""

    def __init__(self, client: Client, settings: Settings, policy: PolicyInfo) -> None:
        self.client = client
        self.settings = settings
        self.policy = policy
        self._ids: dict[tuple[str, str], str] = {}

    @classmethod
    def from_settings(cls, settings: Settings, policy: PolicyInfo) -> CharterLink:
        return cls(Client(settings.charter_url, settings.charter_secret_key, timeout=5.0), settings, policy)

    @property
    def controller_id(self) -> str:
        return self.settings.charter_controller or self.policy.controller_id

    @property
    def public_url(self) -> str:
        return (self.settings.charter_public_url or self.settings.charter_url).rstrip("/")

    def subject_id(self, session: Session, subject: Subject) -> str:
        """Charter's id for the person: kept on `users` once registered, else found or created by identity."""
        if subject.charter_subject_id:
            return subject.charter_subject_id
        user = session.get(User, subject.user_id) if subject.user_id else None
        if user is not None and user.charter_subject_id:
            return user.charter_subject_id
        key = ("account", str(user.id)) if user is not None else ("email", subject.email)
        if key not in self._ids:
            self._ids[key] = self.register(user, subject)
        return self._ids[key]

    def register(self, user: User | None, subject: Subject) -> str:
        if user is None:
            return self.client.register(email=subject.email or None, phone=subject.phone or None).subject_id
        # Charter is told only what decides consent: a minor's birth date, else that the person is of age.
        is_minor = user.age_band == "minor" and user.birth_date is not None
        found = self.client.register(
            email=user.email, phone=user.phone, account_id=str(user.id),
            birth_date=user.birth_date if is_minor else None,
            age_band=None if is_minor else f"{self.policy.minor_age_threshold}+")
        return found.subject_id


class CharterPrivacy(ReportQueue):
    """Charter through its SDK: its decisions, its privacy centre and its banner (see the module docstring).

    When Charter cannot be reached, every decision denies (`charter_unavailable`): nothing non-essential happens
    on a guess. A withdrawal still waiting in `consent_choices` is honoured at once, before it is delivered.
    """

    def __init__(self, session: Session, settings: Settings, policy: PolicyInfo, link: CharterLink) -> None:
        super().__init__(session, settings, policy)
        self.link = link

    def decide(self, subject: Subject, purpose: str) -> Decision:
        if purpose not in self._policy.purposes:
            return Decision(purpose, False, "", ("undeclared_purpose",), source="charter")
        if not subject.identities():
            return Decision(purpose, False, "", ("no_subject",), source="charter")
        user = self.session.get(User, subject.user_id) if subject.user_id else None
        if user is not None and user.status == "suspended" and purpose not in SUSPENDED_ALLOWED:
            return Decision(purpose, False, "", ("account_suspended",), source="charter")
        if self._is_withdrawal_pending(subject, purpose):
            return Decision(purpose, False, "", ("consent_withdrawn",), source="charter")
        try:
            answer = self.link.client.decide(self.link.subject_id(self.session, subject), purpose,
                                             channel="email" if purpose in EMAIL_PURPOSES else None)
        except (CharterAPIError, httpx.HTTPError) as exc:
            log.warning("Charter did not answer a decision (%s): denied", exc)
            return Decision(purpose, False, "", ("charter_unavailable",), source="charter")
        return Decision(purpose, answer.allowed, answer.basis or "", tuple(answer.reasons),
                        frozenset(answer.obligations), source="charter")

    def choices(self, subject: Subject) -> dict[str, bool]:
        return {p: self.decide(subject, p).is_allowed for p in CHOICE_PURPOSES}

    def privacy_centre_link(self, subject: Subject, lang: str) -> str | None:
        # Minted for this click: a single-use, five-minute link that opens the centre signed in as this person
        # (the URL carries a random token only). When Charter cannot mint one, its sign-in page: the person signs
        # in there with a code sent to their email.
        try:
            return self.link.client.privacy_centre_link(self.link.subject_id(self.session, subject), lang=lang)
        except (CharterAPIError, httpx.HTTPError) as exc:
            log.warning("Charter did not mint a privacy-centre link (%s): its sign-in page instead", exc)
        return f"{self.link.public_url}/center/{quote(self.link.controller_id)}?lang={quote(lang)}"

    def banner_tag(self, lang: str) -> str | None:
        if not self.settings.charter_publishable_key:
            return None
        src = html.escape(f"{self.link.public_url}/static/charter-consent.js")
        key = html.escape(self.settings.charter_publishable_key)
        return f'<script src="{src}" data-key="{key}" data-lang="{html.escape(lang)}" defer></script>'

    def _is_withdrawal_pending(self, subject: Subject, purpose: str) -> bool:
        who = []
        if subject.user_id:
            who.append(ConsentChoice.user_id == subject.user_id)
        if subject.email:
            who.append(ConsentChoice.email == subject.email)
        query = (select(ConsentChoice.is_granted)
                 .where(ConsentChoice.purpose == purpose, ConsentChoice.reported_at.is_(None), or_(*who))
                 .order_by(ConsentChoice.id.desc()).limit(1))
        latest = self.session.scalars(query).first()
        return latest is False


def _evidence(evidence: Evidence) -> dict[str, Any]:
    return {"method": evidence.method, "ip": evidence.ip, "user_agent": evidence.user_agent[:300],
            "lang": evidence.lang, "at": utcnow().isoformat()}


def subject_of(user: User) -> Subject:
    return Subject(user_id=user.id, email=user.email, phone=user.phone)
