"""Controller transfer (LAN-MERGER, LUB-TRANSFER): tell every person before the transfer, record the new holder's
undertaking, then hand over — and refuse to hand over before both are done.

    transfers = Transfers(session, keyring)
    t = transfers.start("acme", new_holder="Beta Ltd", new_holder_contact="dpo@beta.example",
                        transfer_date=date(2026, 3, 1), actor="dpo")
    transfers.notify("acme", t.id, announce=True, actor="dpo")          # the outbox delivers after commit
    transfers.record_undertaking("acme", t.id, text="…", signed_by="Beta Ltd, CEO", actor="dpo")
    transfers.hand_over("acme", t.id, actor="dpo")                      # on or after the transfer date
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass

from sqlalchemy import select

from charter.announcements import Announcements, Audience, fan_out
from charter.core.errors import CharterError, Conflict
from charter.core.i18n import Text
from charter.operations.common import OperationService, aware, contact_of, count_recipients, delivery, nonblank, waiting
from charter.operations.models import ControllerTransfer

__all__ = ["HandOver", "Transfers"]


@dataclass(frozen=True)
class HandOver:
    """What a hand-over would do, or did."""

    transfer: ControllerTransfer
    delivery: dict[str, int]
    is_dry_run: bool


class Transfers(OperationService):
    def start(self, controller_id: str, *, new_holder: str, new_holder_contact: str, transfer_date: dt.date,
              actor: str) -> ControllerTransfer:
        """Open a transfer to `new_holder` on `transfer_date`; nothing is sent or handed over yet."""
        holder = nonblank(new_holder, "new_holder", 200)
        contact = nonblank(new_holder_contact, "new_holder_contact", 300)
        if transfer_date <= self.clock().date():
            raise CharterError("the transfer date must be in the future: people are told before it",
                               field="transfer_date", fix="Give a later date that leaves time to tell everyone.")
        open_one = self.session.execute(select(ControllerTransfer.id).where(
            ControllerTransfer.controller_id == controller_id, ControllerTransfer.handed_over_at.is_(None))).first()
        if open_one:
            raise Conflict(f"transfer {open_one[0]} is still open", fix="Finish or hand over that one first.")
        transfer = ControllerTransfer(id=str(uuid.uuid4()), controller_id=controller_id, new_holder=holder,
                                      new_holder_contact=contact, transfer_date=transfer_date, created_by=actor)
        self.session.add(transfer)
        self.session.flush()
        self.audit.record(controller_id, actor=actor, action="transfer.started", target=f"transfer:{transfer.id}",
                          data={"new_holder": holder, "transfer_date": transfer_date.isoformat()})
        return transfer

    def get(self, controller_id: str, transfer_id: str) -> ControllerTransfer:
        return self._owned(ControllerTransfer, controller_id, transfer_id, "transfer")

    def all(self, controller_id: str) -> list[ControllerTransfer]:
        return list(self.session.execute(select(ControllerTransfer).where(
            ControllerTransfer.controller_id == controller_id).order_by(ControllerTransfer.created_at)).scalars())

    def notify(self, controller_id: str, transfer_id: str, *, actor: str, announce: bool = False,
               dry_run: bool = False) -> dict[str, object]:
        """Tell every person (email, SMS, push as configured, and in-app) and, if asked, announce it publicly.
        Running it again queues nothing twice."""
        transfer = self._open(controller_id, transfer_id)
        audience = Audience(self.session, self.keyring, language_of=self.language_of)
        if dry_run:
            return {"would_queue": count_recipients(audience.everyone(controller_id)), "announce": announce}
        contact = contact_of(self.session, controller_id)
        params = {"new_holder": transfer.new_holder, "new_holder_contact": transfer.new_holder_contact,
                  "transfer_date": transfer.transfer_date, "contact": contact,
                  "undertaking": transfer.undertaking or ""}
        counts = fan_out(self.outbox, controller_id, audience.everyone(controller_id), template="controller_transfer",
                         params=lambda _lang: params, key=f"transfer:{transfer.id}", actor=actor)
        if announce and transfer.announcement_id is None:
            transfer.announcement_id = Announcements(self.session).publish(
                controller_id, kind="transfer", title=_title(transfer), body=_body(transfer, contact), actor=actor,
                source=f"transfer:{transfer.id}").id
        transfer.notified_at = transfer.notified_at or self.clock()
        transfer.notice_counts = counts.as_json()
        self.audit.record(controller_id, actor=actor, action="transfer.notified", target=f"transfer:{transfer.id}",
                          data={**counts.as_json(), "announcement_id": transfer.announcement_id})
        return {"queued": counts.as_json(), "announcement_id": transfer.announcement_id}

    def record_undertaking(self, controller_id: str, transfer_id: str, *, text: str, signed_by: str, actor: str,
                           signed_at: dt.datetime | None = None) -> ControllerTransfer:
        """The new holder's written undertaking to keep the policy's obligations (or to ask people again)."""
        transfer = self._open(controller_id, transfer_id)
        body = nonblank(text, "undertaking")
        signer = nonblank(signed_by, "signed_by", 200)
        at = aware(signed_at) if signed_at else self.clock()
        if at > self.clock() + dt.timedelta(minutes=5):
            raise CharterError("the undertaking is dated in the future", field="signed_at")
        transfer.undertaking, transfer.undertaking_signed_by, transfer.undertaking_signed_at = body, signer, at
        transfer.undertaking_sha256 = hashlib.sha256(body.encode("utf-8")).hexdigest()
        self.audit.record(controller_id, actor=actor, action="transfer.undertaking_recorded",
                          target=f"transfer:{transfer.id}",
                          data={"sha256": transfer.undertaking_sha256, "signed_by": signer,
                                "signed_at": at.isoformat()})
        return transfer

    def hand_over(self, controller_id: str, transfer_id: str, *, actor: str, dry_run: bool = False) -> HandOver:
        """Record the hand-over; refused until people were told (every message delivered or given up on) and the
        undertaking recorded, and before the transfer date they were told."""
        transfer = self._open(controller_id, transfer_id)
        sent = delivery(self.session, controller_id, f"transfer:{transfer.id}")
        if transfer.notified_at is None:
            raise Conflict("people have not been told of the transfer", field="notified",
                           fix="Run the notify step first (`charter operations transfer notify`).")
        if waiting(sent):
            raise Conflict(f"{waiting(sent)} notice(s) of the transfer are still waiting to be delivered",
                           field="notified", fix="Let the outbox deliver them (`charter outbox drain`), then retry.")
        if transfer.undertaking is None:
            raise Conflict("the new holder's undertaking is not recorded", field="undertaking",
                           fix="Record it (`charter operations transfer undertaking`) before handing over.")
        if self.clock().date() < transfer.transfer_date:
            raise Conflict(f"people were told the transfer happens on {transfer.transfer_date}", field="transfer_date",
                           fix="Hand over on or after that date.")
        if not dry_run:
            transfer.handed_over_at, transfer.handed_over_by = self.clock(), actor
            self.audit.record(controller_id, actor=actor, action="transfer.handed_over",
                              target=f"transfer:{transfer.id}",
                              data={"new_holder": transfer.new_holder, "delivery": sent,
                                    "undertaking_sha256": transfer.undertaking_sha256})
        return HandOver(transfer, sent, dry_run)

    def _open(self, controller_id: str, transfer_id: str) -> ControllerTransfer:
        transfer = self.get(controller_id, transfer_id)
        if transfer.handed_over_at is not None:
            raise Conflict("this transfer was already handed over")
        return transfer


def _title(transfer: ControllerTransfer) -> Text:
    return Text(zh=f"关于个人信息转移至{transfer.new_holder}的公告", en=f"Your personal information moves to "
                f"{transfer.new_holder}", zh_tw=f"關於個人資料轉移至{transfer.new_holder}的公告")


def _body(transfer: ControllerTransfer, contact: Text) -> Text:
    day = transfer.transfer_date.isoformat()
    return Text(
        zh=f"因合并、收购或资产转让，我们持有的个人信息将于{day}转移至{transfer.new_holder}"
           f"（联系方式：{transfer.new_holder_contact}）。新持有方已书面承诺继续履行本隐私政策；如需改变处理目的或方式，"
           f"将重新征得您的同意。\n\n如有疑问，请联系我们：{contact.zh}",
        en=f"Because of a merger, acquisition or transfer of assets, the personal information we hold will be "
           f"transferred to {transfer.new_holder} ({transfer.new_holder_contact}) on {day}. The new holder has "
           f"undertaken in writing to keep our privacy policy, and to ask you again before using your information "
           f"in any other way.\n\nQuestions: {contact.en}",
        zh_tw=f"因合併、收購或資產轉讓，我們持有的個人資料將於{day}轉移至{transfer.new_holder}"
              f"（聯絡方式：{transfer.new_holder_contact}）。新持有方已書面承諾繼續履行本私隱政策；如需改變處理目的或方式，"
              f"將重新徵得您的同意。\n\n如有疑問，請聯絡我們：{contact.zh_tw or contact.zh}")
