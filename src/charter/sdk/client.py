"""`Client`: Charter's HTTP API as Python calls, over httpx."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx

from charter.decisions.core import Decision, Question
from charter.decisions.decider import Decider
from charter.policy.schema import WHOLE_POLICY
from charter.requests.verification import mint_assertion
from charter.sdk.source import HttpDecisionSource

__all__ = ["AccountClosure", "CharterAPIError", "Client", "ConsentRecord", "LocalDecider", "Registration",
           "SubmittedRequest"]


class CharterAPIError(Exception):
    """Charter refused a call: `status`, `code`, `message`, and which input `field` was wrong and how to `fix` it."""

    def __init__(self, status: int, error: dict[str, Any]) -> None:
        self.status = status
        self.code = str(error.get("code", ""))
        self.message = str(error.get("message", ""))
        self.field: str | None = error.get("field")
        self.fix: str | None = error.get("fix")
        super().__init__(f"{status} {self.code}: {self.message}" + (f" (field {self.field})" if self.field else ""))


@dataclass(frozen=True)
class ConsentRecord:
    record_id: str
    seq: int
    subject_id: str
    purpose: str
    action: str
    status: str
    at: str
    hash: str

    @classmethod
    def of(cls, data: dict[str, Any]) -> ConsentRecord:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Registration:
    subject_id: str
    created: bool
    is_minor: bool
    needs_guardian: bool
    acceptance: ConsentRecord | None = None
    """The ledger record of the person's acceptance of the policy, when `accept_policy` was given."""

    @classmethod
    def of(cls, data: dict[str, Any]) -> Registration:
        accepted = data.get("acceptance")
        return cls(data["subject_id"], data["created"], data["is_minor"], data["needs_guardian"],
                   ConsentRecord.of(accepted) if accepted else None)


@dataclass(frozen=True)
class SubmittedRequest:
    request_id: str
    reference: str
    status: str
    due_on: str
    token: str | None
    """For reading the request's status and bundle (`Charter-Request-Token`); set when the host vouched."""


@dataclass(frozen=True)
class AccountClosure:
    request_id: str
    subject_id: str
    since: str
    """When the cancellation was approved: pass the last one seen as `since` to the next poll."""
    status: str


def _decision(data: dict[str, Any]) -> Decision:
    return Decision(data["allowed"], data["basis"], data["exception"], tuple(data["reasons"]),
                    tuple(data["obligations"]), data["ask_consent"], data["purpose"], False)


def _drop_none(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


class Client:
    """Charter's API with one controller's secret key.

    `http` lets a test or an application pass its own `httpx.Client` (its base URL is then used as is).

    >>> charter = Client("https://charter.example", "chk_…")
    >>> charter.decide(subject_id, "analytics").allowed
    False
    """

    def __init__(self, base_url: str, api_key: str, *, timeout: float = 5.0, http: httpx.Client | None = None) -> None:
        self._owns_http = http is None
        self.http = http or httpx.Client(base_url=base_url, timeout=timeout)
        self._auth = {"Authorization": f"Bearer {api_key}"}
        self._local: LocalDecider | None = None

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_exc: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]) -> None:
        self.close()

    def close(self) -> None:
        if self._local is not None:
            self._local.close()
        if self._owns_http:
            self.http.close()

    def request(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None) -> Any:
        """One authenticated call; raises `CharterAPIError` for any 4xx/5xx answer."""
        return self._answer(self.http.request(method, path, json=json, params=params, headers=self._auth))

    @staticmethod
    def _answer(response: httpx.Response) -> Any:
        if response.status_code >= 400:
            try:
                error = response.json().get("error", {})
            except ValueError:
                error = {"message": response.text}
            raise CharterAPIError(response.status_code, error)
        return response.json()

    # --- people ---------------------------------------------------------------------------------------------

    def register(self, *, email: str | None = None, phone: str | None = None, account_id: str | None = None,
                 birth_date: str | dt.date | None = None, age_band: str | None = None,
                 accept_policy: bool | dict[str, Any] = False) -> Registration:
        """Find or create the person by the identities given; record their age when the service may have minors,
        and, with `accept_policy`, that they accepted the policy to register (LUB-ACCEPT): `True` for the version
        in force, or the fields of `AcceptanceIn` (policy_version shown, channel, method, notice, language,
        evidence).

        >>> charter.register(email="wang@example.com", birth_date="2012-03-01").needs_guardian
        True
        >>> charter.register(email="li@example.com", accept_policy={"channel": "web", "policy_version": "2023-05",
        ...                                                         "evidence": {"ip": "203.0.113.9"}}).acceptance
        ConsentRecord(record_id='…', purpose='policy', action='accept', status='accepted', …)
        """
        identities = [{"kind": k, "value": v} for k, v in
                      (("email", email), ("phone", phone), ("account_id", account_id)) if v is not None]
        acceptance = (dict(accept_policy) if isinstance(accept_policy, dict) else {}) if accept_policy else None
        body = _drop_none({"identities": identities, "age_band": age_band, "acceptance": acceptance,
                           "birth_date": birth_date.isoformat() if isinstance(birth_date, dt.date) else birth_date})
        registration = Registration.of(self.request("POST", "/v1/subjects", json=body))
        if registration.acceptance is not None:
            self._forget(registration.subject_id)
        return registration

    def accept_policy(self, subject_id: str, **fields: Any) -> ConsentRecord:
        """Record that the person accepted the policy as a whole (LUB-ACCEPT), e.g. again after a change that asks
        for it (`needs_acceptance`); `fields` are those of `AcceptanceIn` (policy_version shown, channel, method,
        notice, language, evidence). It consents to no purpose: those are asked one by one.

        >>> charter.accept_policy(subject_id, policy_version="2024-01", channel="web")
        """
        data = self.request("POST", f"/v1/subjects/{subject_id}/acceptance", json=_drop_none(fields))
        self._forget(subject_id)
        return ConsentRecord.of(data)

    def needs_acceptance(self, subject_id: str) -> bool:
        """Whether to ask the person to accept the policy: they never did, or a change since asks for it again.

        >>> if charter.needs_acceptance(user.charter_subject_id): return redirect("/accept-policy")
        """
        states = self.consents(subject_id)["consents"]
        accepted = next((s for s in states if s["purpose"] == WHOLE_POLICY and s["status"] == "accepted"), None)
        return accepted is None or bool(accepted["needs_reconsent"])

    def identify(self, identities: Sequence[tuple[str, str]]) -> Registration:
        """Find the person by the first identity (or create them) and link every other one to them: how a host
        says that two of its accounts belong to one person, so requests made through either cover both.

        >>> charter.identify([("account_id", "LU0000000042"), ("account_id", "wang_site")]).subject_id
        'sub_…'
        """
        data = self.request("POST", "/v1/subjects",
                            json={"identities": [{"kind": k, "value": v} for k, v in identities]})
        return Registration.of(data)

    def unlink_identity(self, subject_id: str, kind: str, value: str) -> bool:
        """The person is no longer known by this identity (a linked account was unlinked); False when they were
        not. Requests made afterwards no longer cover what is found by it.

        >>> charter.unlink_identity(subject_id, "account_id", "wang_site")
        True
        """
        data = self.request("POST", f"/v1/subjects/{subject_id}/unlink", json={"kind": kind, "value": value})
        self._forget(subject_id)
        return bool(data["unlinked"])

    def link_visitor(self, subject_id: str, visitor_id: str) -> list[str]:
        """At login: carry the banner choices of this browser (its `charter_consent` cookie) to the account.

        >>> charter.link_visitor(subject_id, cookie_value.split(".")[1])
        """
        data = self.request("POST", f"/v1/subjects/{subject_id}/link-visitor", json={"visitor_id": visitor_id})
        self._forget(subject_id)
        return list(data["carried_over"])

    def suspend(self, subject_id: str, reason: str = "user_report") -> None:
        """Suspend the account's service (it reported unauthorised use): non-essential processing stops."""
        self.request("POST", f"/v1/subjects/{subject_id}/suspend", json={"reason": reason})
        self._forget(subject_id)

    def unsuspend(self, subject_id: str) -> None:
        """Lift a suspension. Example: `charter.unsuspend(subject_id)`."""
        self.request("POST", f"/v1/subjects/{subject_id}/unsuspend")
        self._forget(subject_id)

    def restrict(self, subject_id: str, reason: str) -> None:
        """Restrict processing to storage and security (PIPL art. 47). Example: `charter.restrict(s, "legal_hold")`."""
        self.request("POST", f"/v1/subjects/{subject_id}/restrict", json={"reason": reason})
        self._forget(subject_id)

    def privacy_centre_link(self, subject_id: str, *, lang: str | None = None, guardian: bool = False) -> str:
        """A single-use link (five minutes) into the privacy centre for your logged-in user: the page it opens
        says whom it signs in as, and the user's click on its button signs them in.

        Call it from your server when the user clicks "Privacy centre", and redirect them to it; the link carries
        a random token, never personal data. With `guardian=True`, `subject_id` is a minor and your logged-in
        user is their parent or guardian, who then acts for them (a guardian consent must be on record).

        >>> return redirect(charter.privacy_centre_link(user.charter_subject_id, lang="en"))
        >>> return redirect(charter.privacy_centre_link(child.charter_subject_id, guardian=True))
        """
        data = self.request("POST", "/v1/center/links", json=_drop_none(
            {"subject_id": subject_id, "lang": lang, "guardian": True if guardian else None}))
        return str(data["url"])

    # --- consent --------------------------------------------------------------------------------------------

    def record_consent(self, subject_id: str, purpose: str, *, action: str = "grant", **fields: Any) -> ConsentRecord:
        """Append a consent event; `fields` are those of `ConsentIn` (channel, method, notice, language,
        policy_version, consent_kind, valid_until, evidence, guardian).

        >>> charter.record_consent(s, "marketing_email", channel="email", method="double_opt_in",
        ...                        evidence={"ip": "203.0.113.9", "request_id": "req-42"})
        """
        if isinstance(fields.get("valid_until"), dt.datetime):
            fields["valid_until"] = fields["valid_until"].isoformat()
        data = self.request("POST", "/v1/consents",
                            json=_drop_none({"subject_id": subject_id, "purpose": purpose, "action": action, **fields}))
        self._forget(subject_id)
        return ConsentRecord.of(data)

    def withdraw(self, subject_id: str, purpose: str, **fields: Any) -> ConsentRecord:
        """Withdraw consent in one call: it takes effect in the next decision; history is kept (PIPL art. 15).

        >>> charter.withdraw(subject_id, "marketing_email", channel="email", method="unsubscribe_link")
        """
        fields.setdefault("method", "settings")
        return self.record_consent(subject_id, purpose, action="withdraw", **fields)

    def consents(self, subject_id: str, *, history: bool = False) -> dict[str, Any]:
        """The current consent per purpose (and every event with `history=True`)."""
        data: dict[str, Any] = self.request("GET", f"/v1/subjects/{subject_id}/consents",
                                            params={"history": str(history).lower()})
        return data

    def receipt(self, record_id: str) -> dict[str, Any]:
        """The ISO/IEC TS 27560 receipt of one event, to hand to the person."""
        data: dict[str, Any] = self.request("GET", f"/v1/consents/{record_id}/receipt")
        return data

    # --- what the host reports, and data-subject requests ------------------------------------------------

    def report_disclosure(self, subject_id: str, recipient: str, categories: list[str], *,
                          purpose: str | None = None, is_compelled: bool = False) -> str:
        """Record that the person's data went to a recipient the policy declares; it appears in their access
        bundle, and an erasure or correction tells the recipient. Returns the disclosure's id.

        >>> charter.report_disclosure(subject_id, "mailer", ["contact.email"], purpose="marketing_email")
        '42'
        """
        data = self.request("POST", "/v1/disclosures", json=_drop_none({
            "subject_id": subject_id, "recipient": recipient, "categories": categories, "purpose": purpose,
            "is_compelled": is_compelled}))
        return str(data["id"])

    def record_automated_decision(self, subject_id: str, *, kind: str, logic_version: str, outcome: str,
                                  inputs: dict[str, Any], explanation: dict[str, str],
                                  is_significant: bool = True) -> str:
        """Record a decision software made about the person (LUB-AUTOMATED), with its inputs, the version of the
        logic and a plain explanation in zh and en; the person can ask for it and appeal. Returns its id.

        >>> charter.record_automated_decision(s, kind="credit_limit", logic_version="2024.3", outcome="declined",
        ...     inputs={"orders_last_year": 1}, explanation={"zh": "订单太少", "en": "Too few orders"})
        '5f0c…'
        """
        data = self.request("POST", "/v1/automated-decisions", json={
            "subject_id": subject_id, "kind": kind, "logic_version": logic_version, "outcome": outcome,
            "inputs": inputs, "explanation": explanation, "is_significant": is_significant})
        return str(data["id"])

    def submit_request(self, kind: str, *, controller_id: str, assertion_key: str | bytes, identity_kind: str,
                       identity_value: str, language: str = "zh-CN",
                       params: dict[str, Any] | None = None) -> SubmittedRequest:
        """Submit a data-subject request for the user logged in to the host: the host vouches for who they are
        with a short-lived, single-use assertion signed by the controller's assertion key, so no code is sent and
        the request starts at once. `kind`: access, portability, rectification, erasure, restriction,
        withdrawal, cancellation or explanation.

        >>> r = charter.submit_request("erasure", controller_id="lubpur", assertion_key=ASSERTION_KEY,
        ...                            identity_kind="account_id", identity_value="u-1042", language="en")
        >>> charter.request_status(r.request_id, r.token)["status"]
        'executing'
        """
        key = assertion_key.encode() if isinstance(assertion_key, str) else assertion_key
        assertion = mint_assertion(key, controller_id, identity_kind, identity_value)
        data = self.request("POST", "/v1/requests", json=_drop_none({
            "kind": kind, "assertion": assertion, "language": language, "params": params}))
        return SubmittedRequest(data["request_id"], data["reference"], data["status"], str(data["due_on"]),
                                data.get("token"))

    def request_status(self, request_id: str, token: str) -> dict[str, Any]:
        """Where a request stands (held items, recipients told, any error), for the person holding its token.

        >>> charter.request_status(r.request_id, r.token)["held_items"]
        []
        """
        response = self.http.get(f"/v1/requests/{request_id}",
                                 headers={**self._auth, "Charter-Request-Token": token})
        answer: dict[str, Any] = self._answer(response)
        return answer

    def account_closures(self, since: str | None = None) -> list[AccountClosure]:
        """Accounts whose login the host must disable (approved cancellation requests), oldest first; poll with
        the last `since` seen. A host with a login webhook is also told at once.

        >>> for closure in charter.account_closures(since=last_seen):
        ...     disable_login(closure.subject_id); last_seen = closure.since
        """
        rows = self.request("GET", "/v1/account-closures", params=_drop_none({"since": since}))
        return [AccountClosure(r["request_id"], r["subject_id"], str(r["since"]), r["status"]) for r in rows]

    # --- decisions ------------------------------------------------------------------------------------------

    def decide(self, subject_id: str, purpose: str, *, kind: str = "use", category: str | None = None,
               recipient: str | None = None, region: str | None = None, channel: str | None = None,
               exception: str | None = None) -> Decision:
        """Ask Charter whether to process; the answer carries the basis, reasons and obligations.

        >>> d = charter.decide(s, "marketing_email", channel="email")
        >>> d.allowed, d.obligations
        (True, ('no_tracking', 'subject_prefix_ad', 'unsubscribe_link'))
        """
        body = _drop_none({"subject_id": subject_id, "purpose": purpose, "kind": kind, "category": category,
                           "recipient": recipient, "region": region, "channel": channel, "exception": exception})
        return _decision(self.request("POST", "/v1/decisions", json=body))

    def decide_many(self, questions: list[dict[str, Any]]) -> list[Decision]:
        """Many questions in one round trip, answered in order: `[{"subject_id": …, "purpose": …}, …]`."""
        return [_decision(d) for d in self.request("POST", "/v1/decisions", json=questions)]

    def decider(self, controller_id: str, *, refresh_every: float = 1.0) -> LocalDecider:
        """A decider in this process: decisions from memory, refreshed from Charter every `refresh_every`
        seconds and at once for changes made through this client.

        >>> local = charter.decider("lubpur")
        >>> local.decide(subject_id, "analytics").allowed
        """
        if self._local is None:
            decider = Decider(HttpDecisionSource(self), refresh_every=refresh_every)
            self._local = LocalDecider(controller_id, decider.start())
        return self._local

    def _forget(self, subject_id: str) -> None:
        if self._local is not None:
            self._local.decider.invalidate(self._local.controller_id, subject_id)


class LocalDecider:
    """An in-process decider for one controller, fed by Charter's API."""

    def __init__(self, controller_id: str, decider: Decider) -> None:
        self.controller_id = controller_id
        self.decider = decider

    def decide(self, subject_id: str, purpose: str, **question: str | None) -> Decision:
        """Like `Client.decide`, answered from memory. Example: `local.decide(s, "analytics").allowed`."""
        return self.decider.decide(self.controller_id, subject_id, Question(purpose, **question))  # type: ignore[arg-type]

    def refresh(self) -> None:
        """Follow changes made elsewhere now, instead of at the next background refresh."""
        self.decider.refresh()

    def close(self) -> None:
        """Stop the background thread and send the decision log."""
        self.decider.close()
