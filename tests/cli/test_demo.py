"""`charter demo`: seeding alone, and a real start-up (Charter, Lubpur and the mail server as processes), probed
over HTTP and stopped with Ctrl-C, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from charter.connectors.webhook import SIGNATURE_HEADER, sign
from tests.live import free_port
from tests.services import fresh_postgres_database

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-c", "from charter.cli.main import main; main()", "demo", "--examples", str(ROOT / "examples")]


@pytest.fixture
def demo_env(fresh_database_url: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {**os.environ, "CHARTER_DATABASE_URL": fresh_database_url,
           "CHARTER_KEYRING_FILE": str(tmp_path / "keys.json"),
           "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    env.pop("CHARTER_KEYRING", None)
    with ExitStack() as stack:
        if fresh_database_url.startswith("postgresql"):
            env["LUBPUR_DATABASE_URL"] = stack.enter_context(fresh_postgres_database())
        else:
            env.pop("LUBPUR_DATABASE_URL", None)
        yield env


def _lubpur_url(env: dict[str, str], cwd: Path) -> str:
    return env.get("LUBPUR_DATABASE_URL") or f"sqlite:///{cwd / '.charter/demo-lubpur.db'}"


def test_seed_only_prints_the_logins_and_wires_lubpur(demo_env: dict[str, str], tmp_path: Path) -> None:
    for _ in range(2):  # a second run changes nothing and keeps the same logins
        done = subprocess.run([*CLI, "--seed-only"], env={**demo_env, "COLUMNS": "200"}, cwd=tmp_path,  # noqa: S603
                              capture_output=True, text=True, timeout=180, check=False)
        assert done.returncode == 0, done.stderr
    state = json.loads((tmp_path / ".charter/demo.json").read_text())
    assert set(state) >= {"lubpur", "landups"}
    lubpur = state["lubpur"]
    for shown in ("http://127.0.0.1:8100", "wang.gong@example.com", lubpur["platform_user_password"],
                  "service@lubpur.com", lubpur["platform_staff_password"], lubpur["secret_key"],
                  "http://127.0.0.1:8025"):
        assert shown in done.stdout
    engine = create_engine(_lubpur_url(demo_env, tmp_path).replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        assert conn.scalar(text("select count(*) from products")) > 100
        assert conn.scalar(text("select count(*) from users where email = 'wang.gong@example.com'")) == 1
        assert conn.scalar(text("select count(*) from staff")) == 1
    engine.dispose()
    # Charter tells Lubpur to stop a cancelled account's login at its webhook; the key was kept for Lubpur.
    assert lubpur["login_webhook_key"]
    charter = create_engine(demo_env["CHARTER_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://"))
    with charter.connect() as conn:
        assert conn.scalar(text("select login_webhook_url from request_settings where controller_id = 'lubpur'")) \
            == "http://127.0.0.1:8100/charter/account-closed"
    charter.dispose()


def _is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _get(url: str, deadline: float) -> httpx.Response:
    while True:
        try:
            return httpx.get(url, timeout=2.0)
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def test_demo_starts_everything_and_stops_on_ctrl_c(demo_env: dict[str, str], tmp_path: Path) -> None:
    smtp, inbox = free_port(), free_port()
    port = next(p for p in iter(free_port, 0) if p + 100 <= 65535 and p + 100 not in (smtp, inbox)
                and _is_free(p + 100))
    args = [*CLI, "--port", str(port), "--smtp-port", str(smtp), "--inbox-port", str(inbox)]
    proc = subprocess.Popen(args, env=demo_env, cwd=tmp_path, stdout=subprocess.PIPE,  # noqa: S603 - our CLI
                            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        lubpur = f"http://127.0.0.1:{port + 100}"
        home = _get(f"{lubpur}/", deadline)
        assert home.status_code == 200
        state = json.loads((tmp_path / ".charter/demo.json").read_text())["lubpur"]
        assert f'src="http://127.0.0.1:{port}/static/charter-consent.js" data-key="{state["publishable_key"]}"' \
            in home.text
        assert _get(f"http://127.0.0.1:{port}/healthz", deadline).status_code == 200
        assert _get(f"http://127.0.0.1:{inbox}/", deadline).status_code == 200
        policies = httpx.get(f"http://127.0.0.1:{port}/v1/policies",
                             headers={"Authorization": f"Bearer {state['secret_key']}"})
        assert policies.status_code == 200
        # The demo customer, registered by the seed, reaches Charter once the connected server delivers.
        engine = create_engine(_lubpur_url(demo_env, tmp_path).replace("postgresql://", "postgresql+psycopg://"))
        while True:
            with engine.connect() as conn:
                subject = conn.scalar(text("select charter_subject_id from users"))
            if subject or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        engine.dispose()
        assert subject
        # Lubpur took the login webhook's key from the demo: a call Charter signs is answered (nobody to close).
        body = json.dumps({"event": "account.cancelled", "subject_id": "0" * 32, "request_id": "r"}).encode()
        signed = sign(state["login_webhook_key"].encode(), int(time.time()), body)
        closed = httpx.post(f"{lubpur}/charter/account-closed", content=body,
                            headers={"Content-Type": "application/json", SIGNATURE_HEADER: signed})
        assert closed.status_code == 200 and closed.json() == {"closed": False}
        settings = httpx.get(f"http://127.0.0.1:{port}/v1/admin/request-settings",
                             headers={"Authorization": f"Bearer {state['secret_key']}"}).json()
        assert settings["login_webhook_url"] == f"{lubpur}/charter/account-closed"
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out.decode(errors="replace")[-3000:]
    for p in (port, port + 100, inbox):
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{p}/", timeout=1.0)
