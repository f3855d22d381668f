"""Ceasing operations (LUB-SHUTDOWN): stop collecting (consent, decisions and new people are refused from then on),
tell everyone or announce it, erase or anonymise every dataset through the connectors, and a closing report.

    shutdowns = Shutdowns(session, keyring)
    shutdowns.stop_collection("acme", reason="…", last_day=date(2026, 1, 31), actor="ceo")
    shutdowns.notify("acme", individually=True, announce=True, actor="dpo")
    # after the last day, outside any transaction:
    ShutdownErasure(sessions, keyring, secrets).erase("acme", actor="dpo")
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from charter.accounts.services import ControllerService
from charter.announcements import Announcements, Audience, FanOut, fan_out
from charter.audit.services import AuditLog
from charter.core.crypto import Keyring
from charter.core.db import transaction, utcnow
from charter.core.errors import CharterError, Conflict, NotFound
from charter.core.i18n import Text
from charter.core.secrets import Secrets
from charter.operations.common import OperationService, contact_of, count_recipients, delivery, nonblank, waiting
from charter.operations.models import Shutdown
from charter.retention import RetentionSweep, SweepProgress, SweepReport
from charter.retention.models import RetentionRun

__all__ = ["ShutdownErasure", "Shutdowns"]


class Shutdowns(OperationService):
    def stop_collection(self, controller_id: str, *, reason: str, last_day: dt.date, actor: str,
                        dry_run: bool = False) -> Shutdown | None:
        """Switch collection off: from now on consent, decisions and new people are refused for this controller."""
        controller = ControllerService(self.session).get(controller_id)
        why = nonblank(reason, "reason", 2000)
        if controller.collection_stopped_at is not None:
            raise Conflict("collection is already stopped for this controller")
        today = self.clock().date()
        if last_day < today:
            raise CharterError("the last day is in the past", field="last_day",
                               fix="Give the day after which data is erased; people are told it in advance.")
        if dry_run:
            return None
        now = self.clock()
        controller.collection_stopped_at = now
        shutdown = Shutdown(id=str(uuid.uuid4()), controller_id=controller_id, reason=why, stopped_at=now,
                            last_day=last_day, created_by=actor)
        self.session.add(shutdown)
        self.session.flush()
        self.audit.record(controller_id, actor=actor, action="operations.collection_stopped",
                          target=f"shutdown:{shutdown.id}", data={"last_day": last_day.isoformat()})
        return shutdown

    def get(self, controller_id: str) -> Shutdown:
        found = self.session.execute(select(Shutdown).where(Shutdown.controller_id == controller_id)
                                     ).scalar_one_or_none()
        if found is None:
            raise NotFound(f"controller {controller_id!r} has not ceased operations",
                           fix="Stop collection first (`charter operations cease stop`).")
        return found

    def notify(self, controller_id: str, *, actor: str, individually: bool = True, announce: bool = True,
               dry_run: bool = False) -> dict[str, object]:
        """Tell each person (email, SMS, push as configured, in-app) and/or publish an announcement."""
        shutdown = self.get(controller_id)
        if not individually and not announce:
            raise CharterError("people must be told one way or the other", field="announce",
                               fix="Notify them individually, announce it publicly, or both.")
        audience = Audience(self.session, self.keyring, language_of=self.language_of)
        if dry_run:
            would = count_recipients(audience.everyone(controller_id)) if individually else {}
            return {"would_queue": would, "announce": announce}
        contact = contact_of(self.session, controller_id)
        counts = FanOut()
        if individually:
            params = {"stopped_on": shutdown.stopped_at.date(), "last_day": shutdown.last_day, "contact": contact}
            counts = fan_out(self.outbox, controller_id, audience.everyone(controller_id),
                             template="service_shutdown", params=lambda _lang: params,
                             key=f"shutdown:{shutdown.id}", actor=actor)
        if announce and shutdown.announcement_id is None:
            shutdown.announcement_id = Announcements(self.session).publish(
                controller_id, kind="shutdown", title=_TITLE, body=_body(shutdown, contact), actor=actor,
                source=f"shutdown:{shutdown.id}").id
        shutdown.notified_at = shutdown.notified_at or self.clock()
        shutdown.notice_counts = counts.as_json()
        self.audit.record(controller_id, actor=actor, action="operations.shutdown_notified",
                          target=f"shutdown:{shutdown.id}",
                          data={**counts.as_json(), "announcement_id": shutdown.announcement_id})
        return {"queued": counts.as_json(), "announcement_id": shutdown.announcement_id}

    def ready_to_erase(self, controller_id: str) -> Shutdown:
        """Refuse erasure until people were told (every message delivered or given up on) and the last day passed."""
        shutdown = self.get(controller_id)
        if shutdown.notified_at is None:
            raise Conflict("people have not been told that the service stops", field="notified",
                           fix="Notify them or announce it first (`charter operations cease notify`).")
        pending = waiting(delivery(self.session, controller_id, f"shutdown:{shutdown.id}"))
        if pending:
            raise Conflict(f"{pending} notice(s) of the shutdown are still waiting to be delivered", field="notified",
                           fix="Let the outbox deliver them (`charter outbox drain`), then retry.")
        if self.clock().date() <= shutdown.last_day:
            raise Conflict(f"people were told their data stays until {shutdown.last_day}", field="last_day",
                           fix="Erase after that day.")
        return shutdown


_TITLE = Text(zh="停止运营公告", en="We are closing our service", zh_tw="停止營運公告")


def _body(shutdown: Shutdown, contact: Text) -> Text:
    stopped, last = shutdown.stopped_at.date().isoformat(), shutdown.last_day.isoformat()
    return Text(
        zh=f"我们已于{stopped}停止运营并停止收集个人信息。{last}之后，我们将删除或匿名化处理所持有的个人信息；"
           f"法律要求保存的部分仅作存储和必要的安全保护，期满即删除。\n\n如有疑问，请联系我们：{contact.zh}",
        en=f"We stopped our service and stopped collecting personal information on {stopped}. After {last} we will "
           f"delete or anonymise the personal information we hold; what the law requires us to keep is only stored "
           f"and protected until it may be deleted.\n\nQuestions: {contact.en}",
        zh_tw=f"我們已於{stopped}停止營運並停止收集個人資料。{last}之後，我們將刪除或匿名化所持有的個人資料；"
              f"法律要求保存的部分僅作儲存和必要的安全保護，期滿即刪除。\n\n"
              f"如有疑問，請聯絡我們：{contact.zh_tw or contact.zh}")


class ShutdownErasure:
    """Erases or anonymises every row of every dataset through the connectors (the retention sweep's machinery,
    every row expired); legal holds in force still keep what they cover, and the closing report says so."""

    def __init__(self, sessions: sessionmaker[Session], keyring: Keyring, secrets: Secrets, *,
                 clock: Callable[[], dt.datetime] = utcnow, progress: SweepProgress | None = None) -> None:
        self.sessions = sessions
        self.keyring = keyring
        self.secrets = secrets
        self.clock = clock
        self.progress = progress

    def erase(self, controller_id: str, *, actor: str, dry_run: bool = False) -> SweepReport:
        with transaction(self.sessions) as session:
            Shutdowns(session, self.keyring, clock=self.clock).ready_to_erase(controller_id)
        sweep = RetentionSweep(self.sessions, self.keyring, self.secrets, clock=self.clock, progress=self.progress,
                               estimate=self.progress is not None and not dry_run)
        report = sweep.cease(controller_id, dry_run=dry_run, actor=actor)
        if not dry_run:
            with transaction(self.sessions) as session:
                shutdown = Shutdowns(session, self.keyring).get(controller_id)
                shutdown.erased_at, shutdown.erasure_run_id = self.clock(), report.run_id
                AuditLog(session).record(controller_id, actor=actor, action="operations.erased",
                                         target=f"shutdown:{shutdown.id}",
                                         data={"run_id": report.run_id, "rows_deleted": report.rows_deleted,
                                               "rows_changed": report.rows_changed, "errors": report.errors,
                                               "held": {k: list(v) for k, v in report.held.items()}})
        return report


def erasure_run(session: Session, shutdown: Shutdown) -> RetentionRun | None:
    return session.get(RetentionRun, shutdown.erasure_run_id) if shutdown.erasure_run_id else None
