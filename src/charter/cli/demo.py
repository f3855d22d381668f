"""`charter demo`: Charter, the reference platforms and a local mail server, seeded, on SQLite, with URLs printed.

One process starts the others and stops them on Ctrl-C: `charter devmail` (SMTP + web inbox), `charter serve`, and
each platform of `PLATFORMS` that has a server (`python -m <module> serve`). A platform meets Charter only as a
customer would: its controller, published policy and data map, API keys and allowed origin are made here; the
platform gets its keys through its own settings (`<PREFIX>CHARTER_URL`, …) and uses the public SDK.

Adding a platform is one `DemoPlatform` in `PLATFORMS` with its module, port and settings prefix; its
`python -m <module> seed` prepares its demo logins from `<PREFIX>STAFF_PASSWORD` and `<PREFIX>DEMO_USER_PASSWORD`.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import httpx
import typer
from sqlalchemy.orm import Session

from charter.accounts.models import Role
from charter.accounts.services import ApiKeyService, ControllerService, OriginService, StaffService
from charter.cli.shell import console, keyring, unit_of_work
from charter.core.errors import NotFound
from charter.core.settings import load_settings
from charter.datamap.services import DataMapStore
from charter.migrations import upgrade
from charter.policy.services import PolicyStore
from charter.requests.services import RequestService
from charter.requests.staff import StaffDesk

DEMO_ACTOR = "demo"
STATE = Path(".charter/demo.json")
HOST = "127.0.0.1"
SMTP_PORT = 1025
INBOX_PORT = 8025
DEFAULT_PORT = 8000
"""Charter's; a platform listens at it plus its `port_offset` (8100 for Lubpur, 8200 for Landups)."""


@dataclass(frozen=True)
class DemoPlatform:
    """A reference platform: a controller in Charter and, when `module` is set, a server the demo runs."""

    id: str
    name: str
    folder: str
    module: str | None = None
    port_offset: int = 0
    env_prefix: str = ""
    """Its settings' prefix (`LUBPUR_`): `<prefix>DATABASE_URL`, `<prefix>CHARTER_URL`, …"""
    staff_email: str = ""
    user_email: str = ""
    login_webhook: str = ""
    """Its path Charter calls to stop a cancelled account's login; the key: `<prefix>CHARTER_LOGIN_WEBHOOK_KEY`."""

    def database_url(self) -> str:
        default = f"sqlite:///{(STATE.parent / f'demo-{self.id}.db').resolve()}"
        return os.environ.get(f"{self.env_prefix}DATABASE_URL", default) if self.env_prefix else default

    def data_dir(self) -> Path:
        """Where the platform keeps files (keys, uploads) beside its demo database."""
        return (STATE.parent / f"demo-{self.id}-data").resolve()

    def base_url(self, charter_port: int) -> str:
        return f"http://{HOST}:{charter_port + self.port_offset}"


PLATFORMS = (
    DemoPlatform("lubpur", "上海超润 Lubpur", "lubpur", module="lubpur", port_offset=100, env_prefix="LUBPUR_",
                 staff_email="service@lubpur.com", user_email="wang.gong@example.com",
                 login_webhook="/charter/account-closed"),
    DemoPlatform("landups", "Landups network", "landups", module="landups", port_offset=200, env_prefix="LANDUPS_",
                 staff_email="support@landups.example", user_email="demo@landups.example"),
)


def default_examples() -> Path:
    here = Path.cwd() / "examples"
    return here if here.is_dir() else Path(__file__).resolve().parents[3] / "examples"


# --- seeding Charter -------------------------------------------------------------------------------------------


def _datamap_text(platform: DemoPlatform, examples: Path, charter_port: int) -> str:
    """The platform's data map: its SQL datasets' kind matching where the demo keeps its database, and the
    platform's own URLs (a webhook) at the port it runs on."""
    text = (examples / platform.folder / "datamap.yaml").read_text(encoding="utf-8")
    scheme = platform.database_url().split(":", 1)[0].split("+", 1)[0]
    kind = {"postgresql": "postgresql", "mysql": "mysql", "mariadb": "mysql"}.get(scheme, "sqlite")
    text = re.sub(r"(?m)^(\s+kind:\s*)(sqlite|postgresql|mysql)\s*$", rf"\g<1>{kind}", text)
    return text.replace(platform.base_url(DEFAULT_PORT), platform.base_url(charter_port))


def _seed_controller(session: Session, platform: DemoPlatform, examples: Path, state: dict[str, dict[str, str]],
                     charter_port: int) -> None:
    controllers = ControllerService(session)
    try:
        controllers.get(platform.id)
    except NotFound:
        controllers.create(platform.id, platform.name, actor=DEMO_ACTOR)
    policy = examples / platform.folder / "policy.yaml"
    PolicyStore(session).publish(platform.id, policy.read_text(encoding="utf-8"), source=str(policy),
                                 actor=DEMO_ACTOR)
    if platform.module is not None:
        DataMapStore(session).publish(platform.id, _datamap_text(platform, examples, charter_port),
                                      source=str(examples / platform.folder / "datamap.yaml"), actor=DEMO_ACTOR)
        origins = OriginService(session)
        if not origins.is_allowed(platform.id, platform.base_url(charter_port)):
            origins.add(platform.id, platform.base_url(charter_port), actor=DEMO_ACTOR)
    if platform.id in state:
        state[platform.id].setdefault("webhook_key", secrets.token_urlsafe(32))   # a state file from before
        return
    password = secrets.token_urlsafe(9)
    email = f"admin@{platform.id}.example"
    StaffService(session).create(platform.id, email, password, Role.ADMIN, actor=DEMO_ACTOR)
    keys = ApiKeyService(session)
    state[platform.id] = {
        "staff_email": email, "staff_password": password,
        "secret_key": keys.create(platform.id, "demo host (server)", "secret", actor=DEMO_ACTOR).token,
        "publishable_key": keys.create(platform.id, "demo host (banner)", "publishable", actor=DEMO_ACTOR).token,
        "platform_staff_password": secrets.token_urlsafe(9),
        # Ten characters or more with a letter and a digit, as the platforms' password rules ask.
        "platform_user_password": f"Demo-{secrets.token_hex(4)}-7",
        "hash_key": secrets.token_hex(32),
        "webhook_key": secrets.token_urlsafe(32),
    }


def _seed_login_webhook(session: Session, platform: DemoPlatform, state: dict[str, str], charter_port: int) -> None:
    """Point Charter's login webhook at the platform (again when the port changed); the key goes to its settings."""
    if not platform.login_webhook:
        return
    url, ring = platform.base_url(charter_port) + platform.login_webhook, keyring()
    if RequestService(session, ring).settings(platform.id).login_webhook_url == url and state.get("login_webhook_key"):
        return
    issued = StaffDesk(session, ring).set_login_webhook(platform.id, url, actor=DEMO_ACTOR)
    if issued is not None:
        state["login_webhook_key"] = issued.value


def seed(examples: Path, charter_port: int = DEFAULT_PORT) -> dict[str, dict[str, str]]:
    """Create the demo controllers, publish their policies and data maps, make demo logins (.charter/demo.json)."""
    upgrade(load_settings().database_url)
    state: dict[str, dict[str, str]] = json.loads(STATE.read_text()) if STATE.exists() else {}
    STATE.parent.mkdir(exist_ok=True)
    with unit_of_work() as session:
        for platform in PLATFORMS:
            _seed_controller(session, platform, examples, state, charter_port)
            _seed_login_webhook(session, platform, state[platform.id], charter_port)
    STATE.write_text(json.dumps(state, indent=2))
    STATE.chmod(0o600)
    return state


# --- the platforms' own settings ---------------------------------------------------------------------------------


def charter_env(state: dict[str, dict[str, str]], smtp_port: int) -> dict[str, str]:
    """Charter's process: the platforms' database URLs, hash keys and webhook keys as the data maps' secrets."""
    env = {"CHARTER_SMTP_HOST": HOST, "CHARTER_SMTP_PORT": str(smtp_port)}
    for platform in PLATFORMS:
        if platform.module is None:
            continue
        name = platform.id.upper()
        env[f"CHARTER_SECRET_{name}_DB"] = platform.database_url()
        env[f"CHARTER_SECRET_{name}_HASH_KEY"] = state[platform.id]["hash_key"]
        env[f"CHARTER_SECRET_{name}_WEBHOOK"] = state[platform.id]["webhook_key"]
    return env


def platform_env(platform: DemoPlatform, state: dict[str, str], charter_port: int, smtp_port: int) -> dict[str, str]:
    p = platform.env_prefix
    charter_url = f"http://{HOST}:{charter_port}"
    return {
        f"{p}DATABASE_URL": platform.database_url(), f"{p}BASE_URL": platform.base_url(charter_port),
        f"{p}DATA_DIR": str(platform.data_dir()), f"{p}CHARTER_WEBHOOK_KEY": state["webhook_key"],
        f"{p}SMTP_HOST": HOST, f"{p}SMTP_PORT": str(smtp_port), f"{p}SECRET_KEY": state["hash_key"],
        f"{p}CHARTER_URL": charter_url, f"{p}CHARTER_SECRET_KEY": state["secret_key"],
        f"{p}CHARTER_PUBLISHABLE_KEY": state["publishable_key"], f"{p}CHARTER_CONTROLLER": platform.id,
        f"{p}STAFF_PASSWORD": state["platform_staff_password"],
        f"{p}DEMO_USER_PASSWORD": state["platform_user_password"],
        f"{p}CHARTER_LOGIN_WEBHOOK_KEY": state.get("login_webhook_key", ""),
    }


def _python_env(extra: dict[str, str], examples: Path) -> dict[str, str]:
    env = {**os.environ, **extra}
    paths = [str(examples / p.folder) for p in PLATFORMS if p.module is not None]
    env["PYTHONPATH"] = os.pathsep.join([*paths, *filter(None, [env.get("PYTHONPATH")])])
    return env


def seed_platforms(examples: Path, state: dict[str, dict[str, str]], charter_port: int, smtp_port: int) -> None:
    for platform in PLATFORMS:
        if platform.module is None:
            continue
        env = _python_env(platform_env(platform, state[platform.id], charter_port, smtp_port), examples)
        subprocess.run([sys.executable, "-m", platform.module, "seed"], env=env, check=True,  # noqa: S603 - ours
                       stdout=subprocess.DEVNULL)


# --- running ---------------------------------------------------------------------------------------------------


@contextmanager
def _processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    running: list[subprocess.Popen[bytes]] = []
    try:
        yield running
    finally:
        for proc in reversed(running):
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in reversed(running):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_for(url: str, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url} did not start (exit {proc.returncode})")
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f}s")


def _start(running: list[subprocess.Popen[bytes]], args: list[str], env: dict[str, str], probe: str) -> None:
    proc = subprocess.Popen(args, env=env, start_new_session=True)  # noqa: S603 - our own interpreter and modules
    running.append(proc)
    _wait_for(probe, proc)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run(examples: Path, state: dict[str, dict[str, str]], port: int, smtp_port: int, inbox_port: int) -> None:
    charter_url = f"http://{HOST}:{port}"
    # A supervisor's stop (SIGTERM) or a closed terminal (SIGHUP) stops everything as Ctrl-C does: the servers run
    # in sessions of their own and would otherwise keep the ports.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)
    with _processes() as running:
        charter_cli = [sys.executable, "-c", "from charter.cli.main import main; main()"]
        _start(running, [*charter_cli, "devmail", "--host", HOST, "--smtp-port", str(smtp_port), "--web-port",
                         str(inbox_port)], dict(os.environ), f"http://{HOST}:{inbox_port}/")
        _start(running, [*charter_cli, "serve", "--host", HOST, "--port", str(port)],
               {**os.environ, **charter_env(state, smtp_port), "CHARTER_BASE_URL": charter_url},
               f"{charter_url}/healthz")
        for platform in PLATFORMS:
            if platform.module is not None:
                env = _python_env(platform_env(platform, state[platform.id], port, smtp_port), examples)
                _start(running, [sys.executable, "-m", platform.module, "serve", "--host", HOST, "--port",
                                 str(port + platform.port_offset)], env, f"{platform.base_url(port)}/healthz")
        console.print("[bold green]All running.[/] Ctrl-C stops everything.")
        try:
            while all(p.poll() is None for p in running):
                time.sleep(0.5)
        except KeyboardInterrupt:
            console.print("stopping…")


def _print(state: dict[str, dict[str, str]], port: int, smtp_port: int, inbox_port: int) -> None:
    base = f"http://{HOST}:{port}"
    console.print(f"[bold]Charter[/] at {base}  (API docs: {base}/docs)")
    console.print(f"[bold]Mail[/]: every message lands in the inbox at http://{HOST}:{inbox_port} "
                  f"(SMTP {HOST}:{smtp_port}); nothing is relayed")
    for platform in PLATFORMS:
        s = state[platform.id]
        console.print(f"[bold]{platform.name}[/] ({platform.id})")
        if platform.module is not None:
            console.print(f"  platform       {platform.base_url(port)}   data: {platform.database_url()}")
            console.print(f"  customer       {platform.user_email} / {s['platform_user_password']}")
            console.print(f"  customer service {platform.base_url(port)}/staff/login  {platform.staff_email} / "
                          f"{s['platform_staff_password']}")
        console.print(f"  privacy centre {base}/center/{platform.id}")
        console.print(f"  admin console  {base}/admin/sign-in?controller={platform.id}  {s['staff_email']} / "
                      f"{s['staff_password']}  (the first sign-in shows a QR code: enrol an authenticator app)")
        console.print(f"  secret API key:      {s['secret_key']}")
        console.print(f"  publishable API key: {s['publishable_key']}")
    console.print(f"  try: curl -H 'Authorization: Bearer {state['lubpur']['secret_key']}' {base}/v1/policies")


def demo(
    port: Annotated[int, typer.Option(help="Charter's port; each platform listens at an offset (Lubpur +100, "
                                           "Landups +200)")] = DEFAULT_PORT,
    smtp_port: Annotated[int, typer.Option(help="the local mail server's SMTP port")] = SMTP_PORT,
    inbox_port: Annotated[int, typer.Option(help="its web inbox")] = INBOX_PORT,
    examples: Annotated[Path | None, typer.Option(help="the examples folder")] = None,
    seed_only: Annotated[bool, typer.Option(help="seed and print, but start nothing")] = False,
) -> None:
    """Seed Charter and the reference platforms (Lubpur, Landups) on SQLite (or CHARTER_DATABASE_URL /
    LUBPUR_DATABASE_URL / LANDUPS_DATABASE_URL), then run Charter, the platforms and a mail server with a web inbox
    until Ctrl-C.

    Example: `charter demo`
    """
    folder = (examples or default_examples()).resolve()
    state = seed(folder, port)
    seed_platforms(folder, state, port, smtp_port)
    _print(state, port, smtp_port, inbox_port)
    if not seed_only:
        run(folder, state, port, smtp_port, inbox_port)
