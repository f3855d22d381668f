"""Every call Landups makes to Charter, in one module.

Two kinds of call:

- **Reports** (consent given or refused at registration, a choice changed, a disclosure to a third party, a login,
  a linked account). `Privacy` writes each one as a `charter_calls` row in the same transaction as what it
  reports, so a rolled-back registration reports nothing and a committed one is never lost; `deliver_pending`
  sends them after commit and keeps any Charter did not take for the next try.
- **Questions** (may we use this person's data for purpose P? may we share it with recipient R? the signed link
  into the privacy centre; the banner's script tag). Asked synchronously through a `CharterGateway`.

Until Charter's SDK is wired (`NotConnected`), every question is answered "no" with the reason
`charter_not_connected`: no survey invitation, no recommendation, no analytics, nothing handed to a third
party, and no privacy-centre link. Nothing here answers in Charter's place; reports wait in `charter_calls`.

Each method's docstring names the SDK call it stands for (`charter.sdk.Client`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from landups.db import utcnow
from landups.i18n import Lang
from landups.models import CharterCall, User
from landups.policyfacts import PolicyFacts

NOT_CONNECTED = "charter_not_connected"
JURISDICTION = "HK"   # the policy's only jurisdiction; data stored in Hong Kong (LAN-STORAGE-HK)


@dataclass(frozen=True)
class Identity:
    kind: str    # email | phone | account_id: Charter's identity kinds (a linked landups.com account is an account_id)
    value: str


@dataclass(frozen=True)
class Subject:
    """The person as Charter knows them: by the identities Landups holds for them (LAN-ACCOUNT-LINK)."""

    account_id: str
    identities: tuple[Identity, ...]

    @classmethod
    def of(cls, user: User, linked: Sequence[str] = ()) -> Subject:
        ids = [Identity("account_id", user.account_id), Identity("email", user.email)]
        if user.phone:
            ids.append(Identity("phone", user.phone))
        # A landups.com username can never look like a console account id (`LU` + 10 digits), so one kind serves.
        ids.extend(Identity("account_id", name) for name in linked)
        return cls(account_id=user.account_id, identities=tuple(ids))


@dataclass(frozen=True)
class Evidence:
    """What the browser told us when the person made a choice (ISO/IEC TS 27560 evidence; `EvidenceIn`)."""

    ip: str
    user_agent: str
    language: str
    gpc: bool = False

    def as_payload(self) -> dict[str, Any]:
        """The fields of Charter's `EvidenceIn` (the language travels beside it, not inside)."""
        return {"ip": self.ip or None, "user_agent": self.user_agent[:500] or None, "gpc": self.gpc}


VISITOR_COOKIE = "charter_consent"   # set on our domain by Charter's banner: `v1.<32 hex>`


def visitor_id_from_cookie(value: str | None) -> str | None:
    """The banner's anonymous visitor id, if the browser carries a well-formed `charter_consent` cookie."""
    version, _, visitor = (value or "").partition(".")
    if version == "v1" and len(visitor) == 32 and all(c in "0123456789abcdef" for c in visitor):
        return visitor
    return None


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    from_charter: bool
    obligations: tuple[str, ...] = field(default=())


class CharterUnavailable(Exception):
    """Charter could not be reached or refused a report; the report stays queued."""


class CharterGateway(Protocol):
    """The synchronous side of the SDK. Step 2 implements it over `charter.sdk.Client`."""

    @property
    def is_connected(self) -> bool: ...

    def decide_use(self, subject: Subject, purpose: str) -> Decision: ...

    def decide_share(self, subject: Subject, recipient: str, purpose: str) -> Decision: ...

    def centre_link(self, subject: Subject, language: Lang) -> str | None: ...

    def banner_src(self) -> tuple[str, str] | None: ...

    def deliver(self, kind: str, payload: Mapping[str, Any]) -> None: ...


class NotConnected:
    """No Charter yet: every question is denied, reports stay queued."""

    is_connected = False

    def decide_use(self, subject: Subject, purpose: str) -> Decision:
        return Decision(allowed=False, reason=NOT_CONNECTED, from_charter=False)

    def decide_share(self, subject: Subject, recipient: str, purpose: str) -> Decision:
        return Decision(allowed=False, reason=NOT_CONNECTED, from_charter=False)

    def centre_link(self, subject: Subject, language: Lang) -> str | None:
        return None

    def banner_src(self) -> tuple[str, str] | None:
        return None

    def deliver(self, kind: str, payload: Mapping[str, Any]) -> None:
        raise CharterUnavailable(NOT_CONNECTED)


class Privacy:
    """The one object the rest of Landups uses for Charter. One per request; questions are cached for it."""

    def __init__(self, session: Session, gateway: CharterGateway, policy: PolicyFacts) -> None:
        self._session = session
        self._gateway = gateway
        self.policy = policy
        self._answers: dict[tuple[str, ...], Decision] = {}

    @property
    def is_connected(self) -> bool:
        return self._gateway.is_connected

    # -- reports (queued in this transaction) -------------------------------------------------------------

    def record_registration_consent(self, user: User, subject: Subject, choices: Mapping[str, bool],
                                    evidence: Evidence) -> None:
        """`Client.record_consent(...)`, once per consent purpose shown on the registration form.

        Each purpose's box (unticked by default) is reported as `grant` or `refuse`, with the exact policy
        version the person accepted (`user.policy_version`), notice `registration-form`, method `checkbox`,
        channel `web`, jurisdiction HK and the browser's evidence.
        """
        for purpose, granted in choices.items():
            self._queue("record_consent", user, subject, {
                "purpose": purpose, "action": "grant" if granted else "refuse",
                "policy_version": user.policy_version, "notice": "registration-form", "method": "checkbox",
                "channel": "web", "language": evidence.language, "jurisdiction": JURISDICTION,
                "evidence": evidence.as_payload(),
            })

    def record_choice(self, user: User, subject: Subject, purpose: str, *, granted: bool, evidence: Evidence,
                      notice: str) -> None:
        """`Client.record_consent(action="grant", method="settings" or "checkbox")`, or `Client.withdraw(...)`."""
        self._answers.clear()
        if granted:
            self._queue("record_consent", user, subject, {
                "purpose": purpose, "action": "grant", "policy_version": self.policy.version, "notice": notice,
                "method": "checkbox", "channel": "web", "language": evidence.language,
                "jurisdiction": JURISDICTION, "evidence": evidence.as_payload(),
            })
        else:
            self._queue("withdraw", user, subject, {
                "purpose": purpose, "method": "settings", "channel": "web", "language": evidence.language,
                "evidence": evidence.as_payload(),
            })

    def report_disclosure(self, user: User, subject: Subject, recipient: str, purpose: str, record: str) -> None:
        """`Client.report_disclosure(subject, recipient, purpose, categories, record)` (LAN-SHARE, LAN-SCOPE).

        The categories are those both the purpose and the recipient name in the policy; `record` says which
        Landups record was handed over (`offline_deliveries:12`), never its content.
        """
        self._queue("report_disclosure", user, subject, {
            "recipient": recipient, "purpose": purpose, "record": record,
            "categories": list(self.policy.disclosed_categories(recipient, purpose)),
        })

    def report_login(self, user: User, subject: Subject, login_event_id: int, outcome: str) -> None:
        """`Client.report_login(subject, at, outcome, record)`: Landups keeps the details in `login_events`."""
        self._queue("report_login", user, subject, {"outcome": outcome, "record": f"login_events:{login_event_id}"})

    def link_identity(self, user: User, subject: Subject, site: str, site_account: str) -> None:
        """`Client.link_identity(subject_id, kind="account_id", value=<landups.com username>)` (LAN-ACCOUNT-LINK):
        requests made through either account then cover both. Not in the SDK yet: step 2 adds it."""
        self._queue("link_identity", user, subject, {"kind": "account_id", "value": site_account, "site": site})

    def link_visitor(self, user: User, subject: Subject, visitor_id: str) -> None:
        """`Client.link_visitor(subject_id, visitor_id)` at registration and login: the cookie choices this browser
        made in Charter's banner before signing in now belong to the account."""
        self._queue("link_visitor", user, subject, {"visitor_id": visitor_id})

    def unlink_identity(self, user: User, subject: Subject, site: str, site_account: str) -> None:
        """`Client.unlink_identity(subject_id, kind="account_id", value=...)`. Not in the SDK yet: step 2 adds it."""
        self._queue("unlink_identity", user, subject, {"kind": "account_id", "value": site_account, "site": site})

    def _queue(self, kind: str, user: User, subject: Subject, body: dict[str, Any]) -> None:
        payload = {"subject": {"account_id": subject.account_id,
                               "identities": [asdict(i) for i in subject.identities]}, **body}
        self._session.add(CharterCall(kind=kind, user_id=user.id, payload=json.dumps(payload, ensure_ascii=False)))

    # -- questions (synchronous) --------------------------------------------------------------------------

    def may_use(self, subject: Subject, purpose: str) -> Decision:
        """`Client.decide(subject, use=purpose)`: asked before surveys, recommendations and analytics."""
        key = ("use", subject.account_id, purpose)
        if key not in self._answers:
            self._answers[key] = self._gateway.decide_use(subject, purpose)
        return self._answers[key]

    def may_share(self, subject: Subject, recipient: str, purpose: str) -> Decision:
        """`Client.decide(subject, share_with=recipient, purpose=purpose)`: asked before anything leaves Landups."""
        key = ("share", subject.account_id, recipient, purpose)
        if key not in self._answers:
            self._answers[key] = self._gateway.decide_share(subject, recipient, purpose)
        return self._answers[key]

    def centre_link(self, subject: Subject, language: Lang) -> str | None:
        """`Client.privacy_centre_link(subject, language)`: a signed, short-lived URL; None until wired."""
        return self._gateway.centre_link(subject, language)

    def banner_tag(self, language: Lang) -> Markup:
        """The one `<script>` tag of Charter's consent banner, with the publishable key only; empty until wired."""
        src = self._gateway.banner_src()
        if src is None:
            return Markup("")
        url, publishable_key = src
        return Markup('<script src="{}" data-key="{}" data-lang="{}" defer></script>').format(
            escape(url), escape(publishable_key), escape(language.value))

    def last_choices(self, user: User) -> dict[str, tuple[str, str]]:
        """What the person last told us per purpose (action, when), from our own queue: shown beside
        Charter's answer, never used in place of it."""
        rows = self._session.scalars(
            select(CharterCall).where(CharterCall.user_id == user.id,
                                      CharterCall.kind.in_(("record_consent", "withdraw")))
            .order_by(CharterCall.id))
        latest: dict[str, tuple[str, str]] = {}
        for row in rows:
            body = json.loads(row.payload)
            latest[body["purpose"]] = (body.get("action", "withdraw"), row.created_at.isoformat(timespec="minutes"))
        return latest


def pending_calls(session: Session, limit: int = 100) -> Iterator[CharterCall]:
    yield from session.scalars(
        select(CharterCall).where(CharterCall.delivered_at.is_(None)).order_by(CharterCall.id).limit(limit))


def deliver_pending(factory: sessionmaker[Session], gateway: CharterGateway, limit: int = 100) -> int:
    """Send queued reports in order, each in its own transaction; stop at the first failure so order holds.

    Returns how many were delivered. Safe to run twice at once only on one process: step 2 adds row locking.
    """
    if not gateway.is_connected:
        return 0
    delivered = 0
    with factory() as session:
        ids = [c.id for c in pending_calls(session, limit)]
    for call_id in ids:
        with factory() as session, session.begin():
            call = session.get(CharterCall, call_id)
            if call is None or call.delivered_at is not None:
                continue
            call.attempts += 1
            try:
                gateway.deliver(call.kind, json.loads(call.payload))
            except CharterUnavailable as exc:
                call.last_error = str(exc)[:300]
                return delivered
            call.delivered_at = utcnow()
            call.last_error = None
            delivered += 1
    return delivered
