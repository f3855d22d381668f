"""`charter demo`: Charter with both example controllers, seeded, on SQLite, with the URLs printed."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from charter.accounts.models import Role
from charter.accounts.services import ApiKeyService, ControllerService, StaffService
from charter.cli.shell import console, unit_of_work
from charter.core.errors import NotFound
from charter.core.settings import load_settings
from charter.migrations import upgrade
from charter.policy.services import PolicyStore

DEMO_ACTOR = "demo"
STATE = Path(".charter/demo.json")


@dataclass(frozen=True)
class DemoController:
    id: str
    name: str
    policy: str


CONTROLLERS = (
    DemoController("lubpur", "上海超润 Lubpur", "lubpur/policy.yaml"),
    DemoController("landups", "Landups network", "landups/policy.yaml"),
)


def default_examples() -> Path:
    here = Path.cwd() / "examples"
    return here if here.is_dir() else Path(__file__).resolve().parents[3] / "examples"


def _seed_controller(session: Session, demo: DemoController, examples: Path, state: dict[str, dict[str, str]]) -> None:
    controllers = ControllerService(session)
    try:
        controllers.get(demo.id)
    except NotFound:
        controllers.create(demo.id, demo.name, actor=DEMO_ACTOR)
    path = examples / demo.policy
    PolicyStore(session).publish(demo.id, path.read_text(encoding="utf-8"), source=str(path), actor=DEMO_ACTOR)
    if demo.id in state:
        return
    password = secrets.token_urlsafe(9)
    email = f"admin@{demo.id}.example"
    StaffService(session).create(demo.id, email, password, Role.ADMIN, actor=DEMO_ACTOR)
    keys = ApiKeyService(session)
    state[demo.id] = {
        "staff_email": email, "staff_password": password,
        "secret_key": keys.create(demo.id, "demo host (server)", "secret", actor=DEMO_ACTOR).token,
        "publishable_key": keys.create(demo.id, "demo host (banner)", "publishable", actor=DEMO_ACTOR).token,
    }


def seed(examples: Path) -> dict[str, dict[str, str]]:
    """Create the demo controllers, publish their policies, and make demo logins (kept in .charter/demo.json)."""
    upgrade(load_settings().database_url)
    state: dict[str, dict[str, str]] = json.loads(STATE.read_text()) if STATE.exists() else {}
    with unit_of_work() as session:
        for demo in CONTROLLERS:
            _seed_controller(session, demo, examples, state)
    STATE.parent.mkdir(exist_ok=True)
    STATE.write_text(json.dumps(state, indent=2))
    STATE.chmod(0o600)
    return state


def demo(
    host: str = "127.0.0.1",
    port: int = 8000,
    examples: Annotated[Path | None, typer.Option(help="the examples folder")] = None,
    seed_only: Annotated[bool, typer.Option(help="seed and print, but do not start the server")] = False,
) -> None:
    """Seed both example controllers on SQLite (or CHARTER_DATABASE_URL) and start Charter.

    Example: `charter demo`
    """
    state = seed(examples or default_examples())
    base = f"http://{host}:{port}"
    console.print(f"[bold]Charter[/] at {base}  (API docs: {base}/docs)")
    for cid, s in state.items():
        console.print(f"  {cid}: privacy centre {base}/center/{cid}")
        console.print(f"    admin console {base}/admin/sign-in?controller={cid} (the first sign-in sets up the "
                      "authenticator app)")
        console.print(f"    staff {s['staff_email']} / {s['staff_password']}")
        console.print(f"    secret API key:      {s['secret_key']}")
        console.print(f"    publishable API key: {s['publishable_key']}")
    console.print(f"  try: curl -H 'Authorization: Bearer {state['lubpur']['secret_key']}' {base}/v1/policies")
    if seed_only:
        return
    import uvicorn  # noqa: PLC0415 - only when serving

    from charter.web.app import create_app  # noqa: PLC0415 - same

    uvicorn.run(create_app(), host=host, port=port, log_level="info")
