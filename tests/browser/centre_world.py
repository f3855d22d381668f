"""The live world browser tests of the privacy centre and the console share: a server with the request worker and
the outbox sender running, mail to a real DevMail SMTP server, the person's data in a real shop database; and the
steps every journey takes (sign in by code, staff sign in with TOTP, wait for the worker)."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pyotp
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from charter.core.crypto import Keyring
from charter.core.settings import Settings
from charter.datamap.services import DataMapStore
from charter.devmail import DevMail
from charter.outbox.models import OutboxMessage
from charter.requests.staff import StaffDesk
from tests.connectors.shop_tables import HASH_KEY, shop_database
from tests.factories import StaffAccount
from tests.live import free_port, live_server
from tests.requests.world import ANN_EMAIL, publish_world, shop_map_text


@dataclass(frozen=True)
class Live:
    url: str
    mail: DevMail
    shop_url: str
    sessions: sessionmaker[Session]
    """The live app's own database sessions."""


@contextmanager
def serve_live(settings: Settings, tmp_path_factory: Any) -> Iterator[Live]:
    """Serve Charter (workers on) until the block ends; a test module's `live` fixture wraps it."""
    from charter.web.app import create_app  # noqa: PLC0415 - one live server per backend

    port = free_port()
    saved = {k: os.environ.get(k) for k in ("CHARTER_SECRET_SHOP_DB", "CHARTER_SECRET_SHOP_HASH_KEY")}
    with DevMail(web_port=None) as mail, shop_database("sqlite", tmp_path_factory.mktemp("shop")) as shop_url:
        os.environ["CHARTER_SECRET_SHOP_DB"] = shop_url
        os.environ["CHARTER_SECRET_SHOP_HASH_KEY"] = HASH_KEY.decode()
        try:
            app = create_app(settings.model_copy(update={
                "outbox_worker": True, "outbox_interval": 0.2, "smtp_port": mail.smtp_port, "request_worker": True,
                "base_url": f"http://127.0.0.1:{port}"}))
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        with live_server(app, port) as url:
            yield Live(url, mail, shop_url, app.state.sessions)
        app.state.engine.dispose()


def world(sessions: sessionmaker[Session], keyring: Keyring, live: Live, *, needs_approval: bool = False) -> str:
    tenant, _ann = publish_world(sessions, keyring, live.shop_url, kind="sqlite")
    cid = tenant.controller_id
    with sessions() as s, s.begin():
        DataMapStore(s).publish(cid, shop_map_text(cid, keep_manual=False, version="2"), source="datamap.yaml",
                                actor="test")
        if needs_approval:
            StaffDesk(s, keyring).set_needs_approval(cid, True, actor="test")
    return cid


def code_for(live: Live, address: str, controller_id: str) -> str:
    """The code in the newest sign-in message this controller sent to `address`, as DevMail received it. Matched
    by its Message-ID (the outbox message's id): the sender also delivers other tests' queued mail to DevMail."""
    for _ in range(100):
        with live.sessions() as s:
            ids = s.execute(select(OutboxMessage.id).where(OutboxMessage.controller_id == controller_id,
                                                           OutboxMessage.template == "verification_code")
                            .order_by(OutboxMessage.created_at.desc())).scalars().all()
        wanted = [f"<{i}@" for i in ids]
        for message in reversed(live.mail.messages):
            message_id = message.header("Message-ID") or ""
            if address in message.rcpt_tos and any(message_id.startswith(w) for w in wanted[:1]):
                found = re.search(r"(?<!\d)\d{6}(?!\d)", message.text)
                if found:
                    return found.group(0)
        time.sleep(0.1)
    raise AssertionError("no code arrived")


def settle(mail: DevMail, expected: int) -> None:
    """Wait for the outbox to deliver what the last action queued. On SQLite the audit chain takes one writer at a
    time; the sender's writes and a page's read event must not overlap (see the report on BEGIN IMMEDIATE)."""
    mail.wait_for(expected, timeout=10)
    time.sleep(0.3)


def person_signs_in(page: Any, live: Live, cid: str, identity: str = ANN_EMAIL, *, as_guardian: bool = False) -> None:
    live.mail.clear()
    page.goto(f"{live.url}/center/{cid}/{'guardian' if as_guardian else 'sign-in'}")
    page.fill("input[name=identity]", identity)
    page.click("main button[type=submit]")
    page.wait_for_url("**/sign-in/code")
    page.fill("input[name=code]", code_for(live, identity, cid))
    page.click("main button[type=submit]")


def staff_signs_in(page: Any, live: Live, account: StaffAccount) -> None:
    page.goto(live.url + "/admin/sign-in")
    page.fill("input[name=controller]", account.controller_id)
    page.fill("input[name=email]", account.email)
    page.fill("input[name=password]", account.password)
    page.click("main button[type=submit]")
    page.wait_for_url("**/admin/sign-in/code")
    assert account.totp_secret
    page.fill("input[name=code]", pyotp.TOTP(account.totp_secret).now())
    page.click("main button[type=submit]")
    page.wait_for_url("**/admin")
