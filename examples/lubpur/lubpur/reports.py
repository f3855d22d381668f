"""Delivering what Charter must be told: the `consent_choices` and `charter_reports` rows, after commit.

Each row was written in the same transaction as the change it reports. `ReportDelivery.deliver_pending` sends
them in order through the SDK, each in a transaction of its own that stamps it delivered; a row is stamped only
after Charter took it, so a crash or an outage means it is sent again (at least once: every consent event
carries `request_id` `lubpur-choice-<id>`, so a repeat can be recognised in the ledger). While Charter is down
the pass stops at the first failure, keeping the order, and `run_forever` tries again with a growing pause.

```python
delivery = ReportDelivery(sessions, link, ClosureWatch(sessions, link.client))
delivery.deliver_pending()          # right after a request that queued something
delivery.start()                    # the background retry loop; `stop()` at shutdown
```

The same loop asks Charter for cancelled accounts (`ClosureWatch.poll`) and closes their login.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import logging
import threading
from collections.abc import Iterator
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from charter.sdk import CharterAPIError
from lubpur.closures import ClosureUnavailable, ClosureWatch
from lubpur.db import utcnow
from lubpur.models import CharterReport, ConsentChoice, GuardianConsent, Subscription, User
from lubpur.privacy import RECOMMENDER_VERSION, CharterLink, Subject

log = logging.getLogger(__name__)

# Lubpur's names for how a choice was made → Charter's collection method and channel.
METHODS: dict[str, tuple[str, str]] = {
    "registration_form": ("checkbox", "web"),
    "personal_centre": ("settings", "web"),
    "policy_update_prompt": ("button", "web"),
    "double_opt_in": ("double_opt_in", "email"),
    "email_link": ("unsubscribe_link", "email"),
    "unsubscribe_link": ("unsubscribe_link", "email"),
    "list_unsubscribe_one_click": ("unsubscribe_link", "email"),
    "guardian_email_link": ("email_code", "email"),
}
RELATIONSHIPS = {"father": "parent", "mother": "parent", "guardian": "legal_guardian"}
BATCH = 200
MAX_PAUSE = 60.0


class CharterDown(Exception):
    """Charter could not be reached or failed on its side: stop the pass and try again later."""


class ReportDelivery:
    def __init__(self, sessions: sessionmaker[Session], link: CharterLink,
                 closures: ClosureWatch | None = None) -> None:
        self.sessions = sessions
        self.link = link
        self.closures = closures
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- the loop --------------------------------------------------------------------------------------------

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self.run_forever, name="lubpur-charter-delivery", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def poke(self) -> None:
        self._wake.set()

    def run_forever(self, every: float = 2.0) -> None:
        pause = every
        while not self._stop.is_set():
            try:
                self.deliver_pending()
                if self.closures is not None:
                    self.closures.poll()
                pause = every
            except (CharterDown, ClosureUnavailable) as exc:
                log.warning("Charter unreachable, reports kept for the next try in %.0fs: %s", pause, exc)
                pause = min(pause * 2, MAX_PAUSE)
            except Exception:
                log.exception("delivering reports to Charter failed; trying again")
                pause = min(pause * 2, MAX_PAUSE)
            self._wake.wait(pause)
            self._wake.clear()

    # --- one pass --------------------------------------------------------------------------------------------

    def deliver_pending(self) -> int:
        """Send every row not yet delivered, oldest first; returns how many went. Raises `CharterDown`."""
        with self._lock:
            return self._deliver_choices() + self._deliver_reports()

    def _pending(self, column: Any, stamp: Any) -> Iterator[int]:
        """Ids of undelivered rows, oldest first, a batch at a time (rows refused by Charter are passed over)."""
        after = 0
        while True:
            with self.sessions() as session:
                ids = list(session.scalars(select(column).where(stamp.is_(None), column > after)
                                           .order_by(column).limit(BATCH)))
            if not ids:
                return
            yield from ids
            after = ids[-1]

    def _deliver_choices(self) -> int:
        sent = 0
        for row_id in self._pending(ConsentChoice.id, ConsentChoice.reported_at):
            with self.sessions() as session, session.begin():
                row = session.get(ConsentChoice, row_id)
                if row is None or row.reported_at is not None:
                    continue
                if _call(lambda: self._send_choice(session, row), f"consent_choices {row_id}"):  # noqa: B023
                    row.reported_at = utcnow()
                    sent += 1
        return sent

    def _deliver_reports(self) -> int:
        sent = 0
        for row_id in self._pending(CharterReport.id, CharterReport.delivered_at):
            with self.sessions() as session, session.begin():
                row = session.get(CharterReport, row_id)
                if row is None or row.delivered_at is not None:
                    continue
                if _call(lambda: self._send_report(session, row), f"charter_reports {row_id}"):  # noqa: B023
                    row.delivered_at = utcnow()
                    sent += 1
        return sent

    # --- what each row becomes -------------------------------------------------------------------------------

    def _subject_id(self, session: Session, user_id: int | None, email: str) -> str:
        user = session.get(User, user_id) if user_id else None
        if user is None and email:
            sub = session.scalars(select(Subscription).where(Subscription.email == email)).first()
            user = session.get(User, sub.user_id) if sub is not None and sub.user_id else None
        subject_id = self.link.subject_id(session, Subject(user_id=user.id if user else None, email=email))
        if user is not None and user.charter_subject_id != subject_id:
            user.charter_subject_id = subject_id
        return subject_id

    def _send_choice(self, session: Session, row: ConsentChoice) -> None:
        subject_id = self._subject_id(session, row.user_id, row.email)
        method, channel = METHODS.get(row.method, ("button", "web"))
        fields: dict[str, Any] = {
            "policy_version": row.policy_version, "method": method, "channel": channel,
            "evidence": _evidence(row.ip, row.user_agent, f"lubpur-choice-{row.id}")}
        if row.kind == "guardian_grant":
            fields["guardian"] = self._guardian(session, row)
            self.link.client.record_consent(subject_id, row.purpose, action="guardian_grant", **fields)
            return
        action = "grant" if row.is_granted else ("refuse" if method == "checkbox" else "withdraw")
        self.link.client.record_consent(subject_id, row.purpose, action=action, **fields)

    def _guardian(self, session: Session, row: ConsentChoice) -> dict[str, Any]:
        found = session.scalars(select(GuardianConsent).where(GuardianConsent.user_id == row.user_id,
                                                              GuardianConsent.confirmed_at.is_not(None))
                                .order_by(GuardianConsent.id.desc())).first()
        if found is None or found.confirmed_at is None:
            raise CharterAPIError(409, {"code": "no_guardian", "message": "no confirmed guardian consent"})
        return {"name": found.guardian_name, "relationship": RELATIONSHIPS.get(found.relationship, "other_guardian"),
                "contact": found.guardian_email, "verification_method": "email_code",
                "verified_at": found.confirmed_at.replace(tzinfo=dt.UTC).isoformat(),
                "rules_version": row.policy_version}

    def _send_report(self, session: Session, row: CharterReport) -> None:
        ids = row.payload.get("identities", {})
        subject_id = self._subject_id(session, row.user_id, ids.get("email", ""))
        if row.kind == "account_suspended":
            self.link.client.suspend(subject_id, reason="user_report")
        elif row.kind == "automated_decision":
            self.link.client.record_automated_decision(
                subject_id, kind=row.payload["kind"], logic_version=row.payload.get("logic_version",
                                                                                    RECOMMENDER_VERSION),
                # Charter takes a short code as the outcome; the products shown go with the inputs.
                outcome="personalised_list", inputs={**row.payload["inputs"], "shown": row.payload["outputs"]},
                explanation=EXPLANATIONS.get(row.payload["kind"], EXPLANATIONS["recommendation"]),
                is_significant=False)
        elif row.kind == "login" and row.payload.get("succeeded") and row.payload.get("visitor_id"):
            self.link.client.link_visitor(subject_id, row.payload["visitor_id"])
        elif row.kind == "policy_acceptance":
            # LUB-ACCEPT: ticking "I have read and accept" at registration (or again after a change), in the ledger.
            p = row.payload
            self.link.client.accept_policy(
                subject_id, policy_version=p.get("policy_version"), channel="web",
                method=METHODS.get(p.get("method", ""), ("checkbox", "web"))[0],
                language="zh-CN" if p.get("lang", "zh") == "zh" else "en",
                evidence=_evidence(p.get("ip", ""), p.get("user_agent", ""), f"lubpur-acceptance-{row.id}"))
        # A login without a banner cookie has nothing to tell Charter (Lubpur's `login_records` are the record).


EXPLANATIONS = {
    "recommendation": {
        "zh": "“猜你喜欢”根据您最近浏览和收藏的产品,挑选类别、粘度等级和规格相近的其他产品;不使用其他信息。"
              "您可以在隐私设置中关闭个性化推荐,之后只显示热门产品。",
        "en": "'You may also like' picks products whose category, viscosity grade and specifications are close to "
              "the ones you recently viewed and favourited; nothing else is used. You can switch personalisation "
              "off in your privacy settings, after which only popular products are shown.",
    },
}


def _call(send: Any, what: str) -> bool:
    """Run one row's SDK calls. A network failure or a 5xx means Charter is down (`CharterDown` ends the pass);
    a refusal (4xx) is logged and the row stays undelivered for staff to see, without holding up the others."""
    try:
        send()
    except httpx.HTTPError as exc:
        raise CharterDown(str(exc)) from exc
    except CharterAPIError as exc:
        if exc.status >= 500 or exc.status in (408, 429):
            raise CharterDown(str(exc)) from exc
        log.error("Charter refused %s, kept undelivered: %s", what, exc)
        return False
    return True


def _evidence(ip: str, user_agent: str, request_id: str) -> dict[str, Any]:
    out: dict[str, Any] = {"request_id": request_id}
    with contextlib.suppress(ValueError):  # a test client's "testclient" and the like are not addresses
        out["ip"] = str(ipaddress.ip_address(ip))
    if user_agent:
        out["user_agent"] = user_agent[:500]
    return out
