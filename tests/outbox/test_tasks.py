"""The in-process sender `charter serve` runs."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from charter.core.crypto import Keyring
from charter.core.settings import Settings
from charter.devmail import DevMail
from charter.migrations import upgrade
from charter.web.app import create_app
from charter.web.deps import RequestOutbox
from tests.factories import make_controller


def test_the_server_sends_what_a_request_commits_at_once(fresh_database_url: str, tmp_path: Path) -> None:
    upgrade(fresh_database_url)
    with DevMail(web_port=None) as mail:
        # A long interval: only the wake-up on commit can deliver within the test's few seconds.
        settings = Settings(database_url=fresh_database_url, keyring=Keyring.generate().to_json(),
                            keyring_file=tmp_path / "unused.json", smtp_port=mail.smtp_port,
                            mail_from="no-reply@charter.test", outbox_interval=600)
        application = create_app(settings)
        with application.state.sessions() as s, s.begin():
            cid = make_controller(s, "Acme")

        @application.post("/test/verify")
        def verify(outbox: RequestOutbox) -> dict[str, str]:
            queued = outbox.enqueue(cid, channel="email", to="wang@example.com", template="verification_code",
                                    params={"code": "042917", "expires_minutes": 10}, language="en",
                                    actor="test")
            return {"id": queued.message.id}

        with TestClient(application) as client:
            sender = application.state.outbox_sender
            assert sender is not None and sender.is_running
            response = client.post("/test/verify")
            assert response.status_code == 200
            [received] = mail.wait_for(1, timeout=10)
            assert "042917" in received.text
        assert not sender.is_running  # stopped with the app


def test_the_sender_can_be_switched_off(fresh_database_url: str, tmp_path: Path) -> None:
    upgrade(fresh_database_url)
    settings = Settings(database_url=fresh_database_url, keyring_file=tmp_path / "k.json", outbox_worker=False)
    assert create_app(settings).state.outbox_sender is None
