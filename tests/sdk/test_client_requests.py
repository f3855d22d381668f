"""The SDK's host calls against a live Charter server (uvicorn on 127.0.0.1, SQLite and PostgreSQL): report a
disclosure and an automated decision, submit a request for a logged-in user with a host assertion and follow
it, poll account closures; mistakes come back as `CharterAPIError` naming the field."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from charter.core.crypto import Keyring
from charter.core.settings import Settings
from charter.requests.staff import StaffDesk
from charter.sdk import CharterAPIError, Client
from tests.live import live_server
from tests.requests.world import ANN_EMAIL, World, shop_world


@pytest.fixture
def live(settings: Settings, sessions: sessionmaker[Session], keyring: Keyring,
         tmp_path: Path) -> Iterator[tuple[Client, World, str]]:
    from charter.web.app import create_app  # noqa: PLC0415 - one app per test, served for real

    app = create_app(settings)
    with shop_world(sessions, keyring, tmp_path) as world, live_server(app) as url:
        app.state.request_queue = world.worker
        with sessions() as session, session.begin():
            key = StaffDesk(session, keyring).issue_assertion_key(world.cid, actor="test").value
        with Client(url, world.tenant.secret) as charter:
            yield charter, world, key
    app.state.engine.dispose()


def test_host_reports_submits_for_a_logged_in_user_and_polls_closures(live: tuple[Client, World, str]) -> None:
    charter, world, key = live
    assert charter.report_disclosure(world.ann, "mailer", ["contact.email"], purpose="marketing")
    decision_id = charter.record_automated_decision(
        world.ann, kind="credit_limit", logic_version="2024.3", outcome="declined", inputs={"orders": 1},
        explanation={"zh": "订单太少", "en": "Too few orders"})
    explained = charter.submit_request("explanation", controller_id=world.cid, assertion_key=key,
                                       identity_kind="email", identity_value=ANN_EMAIL, language="en",
                                       params={"decision_id": decision_id})
    assert explained.token and explained.reference.startswith("R-")
    assert world.worker.wait_idle(30)
    assert charter.request_status(explained.request_id, explained.token)["status"] == "completed"
    assert charter.account_closures() == []
    cancelled = charter.submit_request("cancellation", controller_id=world.cid, assertion_key=key.encode(),
                                       identity_kind="email", identity_value=ANN_EMAIL)
    assert cancelled.status == "executing"
    closures = charter.account_closures()
    assert [(c.request_id, c.subject_id) for c in closures] == [(cancelled.request_id, world.ann)]
    assert charter.account_closures(since=closures[-1].since) == []
    assert world.worker.wait_idle(30)


def test_sdk_mistakes_name_the_field(live: tuple[Client, World, str]) -> None:
    charter, world, key = live
    with pytest.raises(CharterAPIError) as unknown:
        charter.report_disclosure("00000000-0000-0000-0000-000000000000", "mailer", ["contact.email"])
    assert unknown.value.status == 404
    with pytest.raises(CharterAPIError) as wrong_key:
        charter.submit_request("access", controller_id=world.cid, assertion_key="not-the-key",
                               identity_kind="email", identity_value=ANN_EMAIL)
    assert (wrong_key.value.status, wrong_key.value.field) == (400, "assertion")
    with pytest.raises(CharterAPIError) as bad_kind:
        charter.submit_request("forget_me", controller_id=world.cid, assertion_key=key, identity_kind="email",
                               identity_value=ANN_EMAIL)
    assert bad_kind.value.field == "kind"
    with pytest.raises(CharterAPIError) as no_token:
        charter.request_status("no-such-request", "guess")
    assert no_token.value.status == 404
