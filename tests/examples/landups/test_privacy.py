"""privacy.py without Charter: every question is denied, every report is queued with what step 2 must send."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, update

from landups.db import unit_of_work
from landups.i18n import Lang
from landups.models import CharterCall, User
from landups.privacy import (
    NOT_CONNECTED,
    CharterUnavailable,
    Decision,
    Evidence,
    NotConnected,
    Privacy,
    Subject,
    deliver_pending,
    visitor_id_from_cookie,
)
from landups.web.context import AppState
from tests.examples.landups.factories import login, register


def test_not_connected_denies_everything() -> None:
    gateway = NotConnected()
    subject = Subject(account_id="LU1", identities=())
    for decision in (gateway.decide_use(subject, "surveys"), gateway.decide_share(subject, "agent-example", "x")):
        assert decision == Decision(allowed=False, reason=NOT_CONNECTED, from_charter=False)
    assert gateway.centre_link(subject, Lang.EN) is None
    assert gateway.banner_src() is None


def _calls(state: AppState, email: str) -> list[CharterCall]:
    with unit_of_work(state.factory) as session:
        user = session.scalars(select(User).where(User.email == email)).one()
        return list(session.scalars(select(CharterCall).where(CharterCall.user_id == user.id)
                                    .order_by(CharterCall.id)))


def test_registration_queues_one_consent_event_per_purpose_with_the_exact_version(web: Any,
                                                                                   state: AppState) -> None:
    email = register(web, consents=("surveys",))
    calls = [c for c in _calls(state, email) if c.kind == "record_consent"]
    bodies = {json.loads(c.payload)["purpose"]: json.loads(c.payload) for c in calls}
    assert set(bodies) == {"optimisation", "recommendations", "surveys"}
    assert bodies["surveys"]["action"] == "grant"
    assert bodies["optimisation"]["action"] == "refuse" and bodies["recommendations"]["action"] == "refuse"
    for body in bodies.values():
        assert body["policy_version"] == state.policy.version == "landups-2024.1"
        assert (body["notice"], body["method"], body["channel"], body["jurisdiction"]) == (
            "registration-form", "checkbox", "web", "HK")
        assert body["evidence"]["ip"] and "user_agent" in body["evidence"]
        kinds = {i["kind"]: i["value"] for i in body["subject"]["identities"]}
        assert kinds["email"] == email and kinds["account_id"].startswith("LU")
    assert all(c.delivered_at is None for c in calls)


class _Recording(NotConnected):
    """A stand-in for Charter's delivery endpoint: takes the first two reports, then goes away."""

    is_connected = True

    def __init__(self) -> None:
        self.taken: list[tuple[str, Mapping[str, Any]]] = []

    def deliver(self, kind: str, payload: Mapping[str, Any]) -> None:
        if len(self.taken) == 2:
            raise CharterUnavailable("503 from Charter")
        self.taken.append((kind, payload))


def test_deliver_pending_keeps_order_and_what_was_not_taken(state: AppState) -> None:
    with unit_of_work(state.factory) as session:
        session.execute(update(CharterCall).where(CharterCall.delivered_at.is_(None))
                        .values(delivered_at=CharterCall.created_at))
    web_email = "deliver@example.com"
    with unit_of_work(state.factory) as session:
        user = User(account_id="LU0000000001", email=web_email, password_hash="x", name="D", language="en",
                    policy_version="landups-2024.1")
        session.add(user)
        session.flush()
        privacy = Privacy(session, NotConnected(), state.policy)
        subject = Subject.of(user)
        evidence = Evidence(ip="203.0.113.1", user_agent="ua", language="en")
        for purpose in ("surveys", "recommendations", "optimisation"):
            privacy.record_choice(user, subject, purpose, granted=True, evidence=evidence, notice="test")
    assert deliver_pending(state.factory, NotConnected()) == 0
    recording = _Recording()
    assert deliver_pending(state.factory, recording) == 2
    assert [p["purpose"] for _, p in recording.taken] == ["surveys", "recommendations"]
    left = [c for c in _calls(state, web_email) if c.delivered_at is None]
    assert len(left) == 1 and left[0].attempts == 1 and left[0].last_error == "503 from Charter"


def test_banner_choices_are_carried_to_the_account_at_login(web: Any, state: AppState) -> None:
    email = register(web)
    visitor = "0123456789abcdef0123456789abcdef"
    web.cookies.set("charter_consent", f"v1.{visitor}")
    login(web, email)
    links = [json.loads(c.payload) for c in _calls(state, email) if c.kind == "link_visitor"]
    assert [body["visitor_id"] for body in links] == [visitor]


def test_visitor_cookie_parsing() -> None:
    assert visitor_id_from_cookie("v1." + "a" * 32) == "a" * 32
    for bad in (None, "", "v2." + "a" * 32, "v1.short", "v1." + "G" * 32):
        assert visitor_id_from_cookie(bad) is None
