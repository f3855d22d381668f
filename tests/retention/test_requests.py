"""A legal hold suspends an erasure request's deletion of what it covers, and the person is told it is held
(LAN-RETENTION, LAN-LIMITS): the request runner of issue 4 on the shop fixture, for real."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from charter.core.crypto import Keyring
from charter.requests.models import DataRequest
from charter.requests.staff import StaffDesk
from charter.requests.status import describe
from charter.retention import LegalHolds
from tests.connectors.shop_tables import customers, orders, table_rows
from tests.requests.world import shop_world


def test_an_erasure_leaves_what_a_hold_keeps_and_says_so(sessions: sessionmaker[Session], keyring: Keyring,
                                                        tmp_path: Path) -> None:
    with shop_world(sessions, keyring, tmp_path) as world:
        until = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
        with sessions() as session, session.begin():
            LegalHolds(session, keyring).place(world.cid, dataset="shop_db", collection="orders", subject_id=world.ann,
                                               reason="Tax audit", expires_at=until, actor="dpo")
        rid, _token = world.submit_verified("erasure")
        with sessions() as session, session.begin():
            desk = StaffDesk(session, keyring, queue=world.worker)
            for manual in desk.manual_tasks(world.cid):
                desk.complete_manual_task(world.cid, manual.id, rows_affected=1, actor="staff")
        assert world.worker.wait_idle()
        with sessions() as session:
            request = session.get(DataRequest, rid)
            assert request is not None and request.status == "completed_with_held_items"
            held = {(h.collection, h.field): h.reason for h in describe(session, keyring, request,
                                                                         for_staff=False).held_items}
        assert f"kept under a legal hold until {until.date().isoformat()}" in held[("shop_db.orders", "*")]
        notes = {r["id"]: r["note"] for r in table_rows(world.shop_url, orders)}
        assert notes["o1"] == "gift for mum"  # the hold kept Ann's orders as they were
        ann = next(r for r in table_rows(world.shop_url, customers) if r["id"] == 1)
        assert ann["email"].startswith("hmac:")  # everything else of hers was erased
