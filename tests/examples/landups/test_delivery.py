"""Queued reports survive Charter being down: nothing is lost, order holds, and they go out once it is back."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from charter.sdk import Client
from landups.db import unit_of_work
from landups.links import subject_of
from landups.models import CharterCall, User
from landups.privacy import SdkGateway, Subject, deliver_pending
from landups.web.context import AppState
from tests.examples.landups.factories import register
from tests.live import free_port


def test_charter_down_keeps_every_report_queued(web: TestClient, state: AppState) -> None:
    email = register(web, consents=("surveys",))
    with unit_of_work(state.factory) as session:
        user = session.scalars(select(User).where(User.email == email)).one()
        mine = list(session.scalars(select(CharterCall.id).where(CharterCall.user_id == user.id)))
    dead = f"http://127.0.0.1:{free_port()}"   # nothing listens there
    gateway = SdkGateway(Client(dead, "chk_unused", timeout=0.5), charter_url=dead, controller_id="landups")
    try:
        assert deliver_pending(state.factory, gateway) == 0
        assert not gateway.decide_use(_subject(state, user), "surveys").allowed   # deny while unreachable
    finally:
        gateway.close()
    with unit_of_work(state.factory) as session:
        calls = [session.get(CharterCall, i) for i in mine]
        assert [c.kind for c in calls if c][:2] == ["register", "record_consent"]
        assert all(c is not None and c.delivered_at is None and c.refused_at is None for c in calls)


def _subject(state: AppState, user: User) -> Subject:
    with unit_of_work(state.factory) as session:
        return subject_of(session, session.scalars(select(User).where(User.id == user.id)).one())
