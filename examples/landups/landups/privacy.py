"""Every call Landups makes to Charter, in one module.

Two kinds of call:

- **Reports** (consent given or refused at registration, a choice changed, a disclosure to a third party, a login,
  a linked account). `Privacy` writes each one as a `charter_calls` row in the same transaction as what it
  reports, so a rolled-back registration reports nothing and a committed one is never lost; `deliver_pending`
  sends them after commit and keeps any Charter did not take for the next try.
- **Questions** (may we use this person's data for purpose P? may we share it with recipient R? the signed link
  into the privacy centre; the banner's script tag). Asked synchronously through a `CharterGateway`.

Two gateways, chosen by `gateway_from_settings` (`LANDUPS_CHARTER_URL`, `LANDUPS_CHARTER_SECRET_KEY`, …):

- `SdkGateway` — Charter through its public SDK (`charter.sdk.Client`, the controller's secret key), exactly as
  a customer integrates. If Charter cannot be reached a question is answered "no" (`charter_unavailable`).
- `NotConnected` — **running without Charter** (local development, no `LANDUPS_CHARTER_*`): every question is
  answered "no" with the reason `charter_not_connected`: no survey invitation, no recommendation, no analytics,
  nothing handed to a third party, and no privacy-centre link. Reports wait in `charter_calls`.

Nothing here answers in Charter's place. Each method's docstring names the SDK call it stands for.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import httpx
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from charter.sdk import CharterAPIError, Client
from landups.db import utcnow
from landups.i18n import Lang
from landups.models import CharterCall, CharterSubject, User
from landups.policyfacts import PolicyFacts
from landups.settings import Settings

log = logging.getLogger(__name__)
NOT_CONNECTED = "charter_not_connected"
UNAVAILABLE = "charter_unavailable"
QUEUED = "landups_charter_queued"   # `session.info` flag: this transaction queued a report; deliver after commit
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
    charter_id: str | None = None   # Charter's subject id, once the sign-up report has been delivered

    @classmethod
    def of(cls, user: User, linked: Sequence[str] = (), charter_id: str | None = None) -> Subject:
        ids = [Identity("account_id", user.account_id), Identity("email", user.email)]
        if user.phone:
            ids.append(Identity("phone", user.phone))
        # A landups.com username can never look like a console account id (`LU` + 10 digits), so one kind serves.
        ids.extend(Identity("account_id", name) for name in linked)
        return cls(account_id=user.account_id, identities=tuple(ids), charter_id=charter_id)


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
    """Charter could not be reached (or answered 5xx/429); the report stays queued and is retried."""


class CharterRefused(Exception):
    """Charter answered 4xx: retrying cannot help. The report is kept (`refused_at`, `last_error`), not retried."""


class CharterGateway(Protocol):
    """The synchronous side of Charter. `deliver` returns the Charter subject id the report was filed under."""

    @property
    def is_connected(self) -> bool: ...

    def decide_use(self, subject: Subject, purpose: str) -> Decision: ...

    def decide_share(self, subject: Subject, recipient: str, purpose: str) -> Decision: ...

    def centre_link(self, subject: Subject, language: Lang) -> str | None: ...

    def banner_src(self) -> tuple[str, str] | None: ...

    def deliver(self, kind: str, payload: Mapping[str, Any]) -> str | None: ...


class NotConnected:
    """Running without Charter (no `LANDUPS_CHARTER_*` settings): every question is denied, reports stay queued.

    For local development only; it never stands in for Charter's answers."""

    is_connected = False

    def decide_use(self, subject: Subject, purpose: str) -> Decision:
        return Decision(allowed=False, reason=NOT_CONNECTED, from_charter=False)

    def decide_share(self, subject: Subject, recipient: str, purpose: str) -> Decision:
        return Decision(allowed=False, reason=NOT_CONNECTED, from_charter=False)

    def centre_link(self, subject: Subject, language: Lang) -> str | None:
        return None

    def banner_src(self) -> tuple[str, str] | None:
        return None

    def deliver(self, kind: str, payload: Mapping[str, Any]) -> str | None:
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

    def register_subject(self, user: User, subject: Subject) -> None:
        """`Client.identify([account_id, email, phone])` at sign-up: Charter finds or creates the person and
        Landups stores the subject id it answers (`charter_subjects`) when the report is delivered."""
        self._queue("register", user, subject, {})

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
        """`Client.identify([("account_id", <console id>), ("account_id", <landups.com username>)])`
        (LAN-ACCOUNT-LINK): the landups.com account becomes an identity of the same subject, so requests made
        through either account cover both."""
        self._queue("link_identity", user, subject, {"kind": "account_id", "value": site_account, "site": site})

    def link_visitor(self, user: User, subject: Subject, visitor_id: str) -> None:
        """`Client.link_visitor(subject_id, visitor_id)` at registration and login: the cookie choices this browser
        made in Charter's banner before signing in now belong to the account."""
        self._queue("link_visitor", user, subject, {"visitor_id": visitor_id})

    def unlink_identity(self, user: User, subject: Subject, site: str, site_account: str) -> None:
        """`Client.unlink_identity(subject, "account_id", <landups.com username>)`: requests made afterwards no
        longer cover the landups.com account."""
        self._queue("unlink_identity", user, subject, {"kind": "account_id", "value": site_account, "site": site})

    def _queue(self, kind: str, user: User, subject: Subject, body: dict[str, Any]) -> None:
        payload = {"subject": {"account_id": subject.account_id,
                               "identities": [asdict(i) for i in subject.identities]}, **body}
        self._session.add(CharterCall(kind=kind, user_id=user.id, payload=json.dumps(payload, ensure_ascii=False)))
        self._session.info[QUEUED] = True

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
        """The privacy-centre link for this person (`None` without Charter). See `SdkGateway.centre_link`."""
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
        select(CharterCall).where(CharterCall.delivered_at.is_(None), CharterCall.refused_at.is_(None))
        .order_by(CharterCall.id).limit(limit))


def _claim(session: Session, call_id: int) -> CharterCall | None:
    """Lock one call for delivery, or None if another deliverer holds it or it was settled meanwhile.

    MariaDB (and PostgreSQL) take a row lock that another process skips instead of waiting on; SQLite has no row
    locks, and one Landups process delivers at a time (`Courier`'s lock)."""
    try:
        call = session.scalars(select(CharterCall).where(CharterCall.id == call_id)
                               .with_for_update(skip_locked=True)).first()
    except OperationalError:
        return None
    if call is None or call.delivered_at is not None or call.refused_at is not None:
        return None
    return call


def _remember_subject(session: Session, user_id: int | None, subject_id: str | None) -> None:
    if user_id is None or subject_id is None:
        return
    row = session.get(CharterSubject, user_id)
    if row is None:
        session.add(CharterSubject(user_id=user_id, subject_id=subject_id))
    elif row.subject_id != subject_id:
        row.subject_id = subject_id


def deliver_pending(factory: sessionmaker[Session], gateway: CharterGateway, limit: int = 100) -> int:
    """Send queued reports oldest first, each in its own transaction holding that row's lock.

    The order holds across processes: a deliverer that finds the oldest pending call locked by another stops
    (the other is delivering it) rather than skipping ahead. On `CharterUnavailable` it stops and the call waits
    for the next run; on `CharterRefused` the call is kept with the reason and the queue moves on. A crash
    after Charter took a report but before the commit sends it again (at least once, never lost).
    Returns how many were delivered.
    """
    if not gateway.is_connected:
        return 0
    delivered = 0
    for _ in range(limit):
        with factory() as session, session.begin():
            call_id = session.scalar(select(CharterCall.id).where(
                CharterCall.delivered_at.is_(None), CharterCall.refused_at.is_(None))
                .order_by(CharterCall.id).limit(1))
            if call_id is None:
                return delivered
            call = _claim(session, call_id)
            if call is None:
                return delivered
            call.attempts += 1
            try:
                subject_id = gateway.deliver(call.kind, json.loads(call.payload))
            except CharterUnavailable as exc:
                call.last_error = str(exc)[:300]
                return delivered
            except CharterRefused as exc:
                call.refused_at = utcnow()
                call.last_error = f"refused: {exc}"[:300]
                continue
            call.delivered_at = utcnow()
            call.last_error = None
            _remember_subject(session, call.user_id, subject_id)
            delivered += 1
    return delivered


class Courier:
    """Delivers `charter_calls` in a daemon thread: at once when a committed request queued one (`wake`), and
    every `interval` seconds otherwise, so reports made while Charter was down go out when it is back."""

    def __init__(self, factory: sessionmaker[Session], gateway: CharterGateway, interval: float = 30.0) -> None:
        self.factory = factory
        self.gateway = gateway
        self.interval = interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        if not self.gateway.is_connected:
            return
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="landups-charter-courier", daemon=True)
                    self._thread.start()
        self._wake.set()

    def run_once(self) -> int:
        with self._lock:
            return deliver_pending(self.factory, self.gateway)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.run_once()
            except Exception:   # a database hiccup must not end the courier; the next pass retries
                log.exception("delivering reports to Charter failed; retrying in %s s", self.interval)


# -- Charter through its SDK ---------------------------------------------------------------------------------

def _reason(decision: Any) -> str:
    if decision.reasons:
        return str(decision.reasons[0])
    return str(decision.basis or ("allowed" if decision.allowed else "denied"))


class SdkGateway:
    """Charter through `charter.sdk.Client` with the controller's secret key: how a customer integrates.

    >>> gateway = SdkGateway(Client("https://charter.example", "chk_…"), charter_url="https://charter.example",
    ...                      controller_id="landups", publishable_key="chp_…")
    """

    is_connected = True

    def __init__(self, client: Client, *, charter_url: str, controller_id: str,
                 publishable_key: str | None = None) -> None:
        self.client = client
        self.charter_url = charter_url.rstrip("/")
        self.controller_id = controller_id
        self.publishable_key = publishable_key
        self._subject_ids: dict[str, str] = {}
        self._lock = threading.Lock()

    def subject_id(self, subject: Subject) -> str:
        """Charter's id for the person: stored, cached, or found (or created) by the console account id, with
        every other identity Landups holds linked to it (one that is already another person's stays theirs)."""
        if subject.charter_id:
            return subject.charter_id
        with self._lock:
            known = self._subject_ids.get(subject.account_id)
        if known is not None:
            return known
        found = self.client.identify([("account_id", subject.account_id)]).subject_id
        for identity in subject.identities:
            if (identity.kind, identity.value) == ("account_id", subject.account_id):
                continue
            try:
                self.client.identify([("account_id", subject.account_id), (identity.kind, identity.value)])
            except CharterAPIError as exc:
                if exc.status != 409:
                    raise
                # Another person's subject already holds it (a shared family phone): theirs it stays.
                log.info("identity %s of %s belongs to another Charter subject", identity.kind, found)
        with self._lock:
            self._subject_ids[subject.account_id] = found
        return found

    def _decide(self, subject: Subject, purpose: str, **question: str) -> Decision:
        try:
            answer = self.client.decide(self.subject_id(subject), purpose, **question)
        except (CharterAPIError, httpx.HTTPError):
            return Decision(allowed=False, reason=UNAVAILABLE, from_charter=False)
        return Decision(allowed=answer.allowed, reason=_reason(answer), from_charter=True,
                        obligations=tuple(answer.obligations))

    def decide_use(self, subject: Subject, purpose: str) -> Decision:
        return self._decide(subject, purpose)

    def decide_share(self, subject: Subject, recipient: str, purpose: str) -> Decision:
        return self._decide(subject, purpose, kind="share", recipient=recipient)

    def centre_link(self, subject: Subject, language: Lang) -> str | None:
        """`Client.privacy_centre_link`: a single-use link (five minutes) that opens the privacy centre signed in
        as this person, in their language. Minted per click by `/account/privacy-centre`; `None` if Charter
        cannot be reached (the page says so rather than sending the person to a sign-in they cannot expect)."""
        try:
            return self.client.privacy_centre_link(self.subject_id(subject), lang=language.value)
        except (CharterAPIError, httpx.HTTPError):
            log.warning("could not mint a privacy-centre link", exc_info=True)
            return None

    def banner_src(self) -> tuple[str, str] | None:
        if not self.publishable_key:
            return None
        return f"{self.charter_url}/static/charter-consent.js", self.publishable_key

    def deliver(self, kind: str, payload: Mapping[str, Any]) -> str | None:
        subject = _subject_from(payload)
        try:
            subject_id = self.subject_id(subject)
            self._send(kind, subject_id, payload)
        except httpx.HTTPError as exc:
            raise CharterUnavailable(f"{type(exc).__name__}") from None
        except CharterAPIError as exc:
            if exc.status >= 500 or exc.status in (408, 429):
                raise CharterUnavailable(str(exc)) from None
            raise CharterRefused(str(exc)) from None
        return subject_id

    def _send(self, kind: str, subject_id: str, body: Mapping[str, Any]) -> None:
        if kind == "register":
            return   # `subject_id` above found or created the person
        if kind == "record_consent":
            self.client.record_consent(
                subject_id, body["purpose"], action=body["action"], policy_version=body["policy_version"],
                notice=body["notice"], method=body["method"], channel=body["channel"], language=body["language"],
                jurisdiction=body["jurisdiction"], evidence=body["evidence"])
        elif kind == "withdraw":
            self.client.withdraw(subject_id, body["purpose"], method=body["method"], channel=body["channel"],
                                 language=body["language"], evidence=body["evidence"])
        elif kind == "report_disclosure":
            self.client.report_disclosure(subject_id, body["recipient"], body["categories"],
                                          purpose=body["purpose"])
        elif kind == "link_identity":
            account = _subject_from(body).account_id
            self.client.identify([("account_id", account), (body["kind"], body["value"])])
        elif kind == "link_visitor":
            self.client.link_visitor(subject_id, body["visitor_id"])
        elif kind == "unlink_identity":
            self.client.unlink_identity(subject_id, body["kind"], body["value"])
        elif kind == "report_login":
            # Charter has no endpoint for login events: the login itself is in `login_events` (in the data map, so
            # in every access export); the call is kept as delivered.
            return
        else:
            raise CharterRefused(f"unknown report kind {kind!r}")

    def close(self) -> None:
        self.client.close()


def _subject_from(payload: Mapping[str, Any]) -> Subject:
    raw = payload["subject"]
    return Subject(account_id=raw["account_id"],
                   identities=tuple(Identity(i["kind"], i["value"]) for i in raw["identities"]))


def gateway_from_settings(settings: Settings) -> CharterGateway:
    """`SdkGateway` when `LANDUPS_CHARTER_URL` and `LANDUPS_CHARTER_SECRET_KEY` are set, else `NotConnected`."""
    if not (settings.charter_url and settings.charter_secret_key):
        return NotConnected()
    return SdkGateway(Client(settings.charter_url, settings.charter_secret_key),
                      charter_url=settings.charter_url, controller_id=settings.charter_controller,
                      publishable_key=settings.charter_publishable_key)
