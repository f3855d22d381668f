"""Policy changes (LAN-CHANGE, LUB-CHANGE): publishing a version with a later effective date schedules notices. A
material change (`charter.policy.diff`) emails every person (the `policy_change` template, in their language),
puts an in-app notice in their privacy centre and an announcement on the public page, before the effective date;
the banner asks `upcoming()`. On the effective date, consents that need renewal move to "needs re-consent".

    schedule_change(session, "acme", record, actor="dpo")                     # right after publishing
    PolicyChanges(session, keyring).notify_due(actor="scheduler")            # the periodic job
    PolicyChanges(session, keyring).apply_due(actor="scheduler")
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from charter.announcements import Announcements, Audience, fan_out
from charter.announcements.audience import LanguageOf
from charter.audit.services import AuditLog
from charter.consent.services import ConsentLedger
from charter.core.crypto import Keyring
from charter.core.db import utcnow
from charter.core.i18n import Text
from charter.decisions.services import load_terms
from charter.operations.models import ChangeStatus, PolicyChange
from charter.outbox import Outbox
from charter.policy.diff import Change, PolicyDiff, diff_policies
from charter.policy.models import PolicyVersionRecord
from charter.policy.services import as_policy

__all__ = ["EDITORIAL", "PolicyChanges", "is_material", "material_changes", "schedule_change"]

EDITORIAL = frozenset({"version", "effective"})
"""Changes that alter no promise: a new label and a new date are what every version has."""

def material_changes(diff: PolicyDiff) -> list[Change]:
    return [c for c in diff.changes if c.path not in EDITORIAL]


def is_material(diff: PolicyDiff) -> bool:
    """Anything beyond the version label and date: the policy says material changes are told before they apply,
    and the diff tells which of them need consent again."""
    return bool(material_changes(diff))


def schedule_change(session: Session, controller_id: str, record: PolicyVersionRecord, *, actor: str,
                    today: dt.date | None = None) -> PolicyChange | None:
    """After publishing `record`: a material change taking effect later gets its notices scheduled. Returns None
    for a version in effect at once, a first version, or one that changes nothing material."""
    if record.effective <= (today or utcnow().date()):
        return None
    previous = session.execute(select(PolicyVersionRecord).where(
        PolicyVersionRecord.controller_id == controller_id, PolicyVersionRecord.id != record.id,
        PolicyVersionRecord.effective <= record.effective)
        .order_by(PolicyVersionRecord.effective.desc(), PolicyVersionRecord.id.desc()).limit(1)
    ).scalar_one_or_none()
    if previous is None:
        return None
    diff = diff_policies(as_policy(previous), as_policy(record))
    if not is_material(diff):
        return None
    change = PolicyChange(
        id=str(uuid.uuid4()), controller_id=controller_id, from_version=previous.version,
        to_version=record.version, effective=record.effective, is_material=True,
        needs_consent=diff.needs_fresh_consent, purposes=list(diff.purposes_needing_consent()),
        summary=[{"zh": c.summary.zh, "en": c.summary.en} for c in material_changes(diff)],
        status=ChangeStatus.SCHEDULED.value)
    session.add(change)
    session.flush()
    AuditLog(session).record(controller_id, actor=actor, action="policy_change.scheduled",
                             target=f"policy_change:{change.id}",
                             data={"from": change.from_version, "to": change.to_version,
                                   "effective": change.effective.isoformat(), "needs_consent": change.needs_consent,
                                   "purposes": change.purposes, "changes": len(change.summary)})
    return change


class PolicyChanges:
    def __init__(self, session: Session, keyring: Keyring, *, outbox: Outbox | None = None,
                 language_of: LanguageOf | None = None, base_url: str = "http://127.0.0.1:8000",
                 clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.session = session
        self.keyring = keyring
        self.outbox = outbox or Outbox(session, keyring)
        self.language_of = language_of
        self.base_url = base_url.rstrip("/")
        self.clock = clock
        self.audit = AuditLog(session)

    def notify_due(self, *, actor: str = "scheduler", controller_id: str | None = None) -> list[PolicyChange]:
        """Tell everyone about each scheduled change: email (and SMS/push where configured), in-app, announced."""
        q = select(PolicyChange).where(PolicyChange.status == ChangeStatus.SCHEDULED.value)
        if controller_id is not None:
            q = q.where(PolicyChange.controller_id == controller_id)
        due = list(self.session.execute(q.order_by(PolicyChange.created_at)).scalars())
        for change in due:
            self._notify(change, actor)
        return due

    def _notify(self, change: PolicyChange, actor: str) -> None:
        cid = change.controller_id
        url = (f"{self.base_url}/center/{quote(cid)}/changes?from={quote(change.from_version)}"
               f"&to={quote(change.to_version)}")
        summary = [Text(zh=s["zh"], en=s["en"]) for s in change.summary]
        params = {"effective": change.effective, "changes": summary, "needs_consent": change.needs_consent,
                  "policy_url": url}
        audience = Audience(self.session, self.keyring, language_of=self.language_of)
        counts = fan_out(self.outbox, cid, audience.everyone(cid), template="policy_change",
                         params=lambda _lang: params, key=f"policy_change:{change.id}", actor=actor)
        change.announcement_id = Announcements(self.session).publish(
            cid, kind="policy_change", title=_title(change), body=_body(change, summary, url), actor=actor,
            source=f"policy_change:{change.id}").id
        change.status, change.notified_at = ChangeStatus.NOTIFIED.value, self.clock()
        change.notice_counts = counts.as_json()
        self.audit.record(cid, actor=actor, action="policy_change.notified", target=f"policy_change:{change.id}",
                          data={**counts.as_json(), "announcement_id": change.announcement_id,
                                "before_effective": self.clock().date() < change.effective})

    def apply_due(self, *, actor: str = "scheduler", controller_id: str | None = None) -> list[PolicyChange]:
        """On the effective date: consents the new version needs renewed move to "needs re-consent"."""
        q = select(PolicyChange).where(PolicyChange.status == ChangeStatus.NOTIFIED.value,
                                       PolicyChange.effective <= self.clock().date())
        if controller_id is not None:
            q = q.where(PolicyChange.controller_id == controller_id)
        due = list(self.session.execute(q.order_by(PolicyChange.effective)).scalars())
        for change in due:
            change.renewals = self._renew(change, actor) if change.needs_consent else 0
            change.status, change.effective_at = ChangeStatus.EFFECTIVE.value, self.clock()
            self.audit.record(change.controller_id, actor=actor, action="policy_change.effective",
                              target=f"policy_change:{change.id}",
                              data={"version": change.to_version, "renewals": change.renewals})
        return due

    def _renew(self, change: PolicyChange, actor: str) -> int:
        """The consent ledger's own mechanism: a `supersede` event for every granted consent older than the version
        that asks for it again, so the person is asked before their data is used that way (PIPL art. 14)."""
        terms = load_terms(self.session, change.controller_id, self.clock().date())
        return len(ConsentLedger(self.session, self.keyring).supersede_outdated(change.controller_id, terms,
                                                                               actor=actor))

    def upcoming(self, controller_id: str) -> PolicyChange | None:
        """The next change not yet in effect: what the banner and the privacy centre show."""
        return self.session.execute(select(PolicyChange).where(
            PolicyChange.controller_id == controller_id, PolicyChange.effective > self.clock().date())
            .order_by(PolicyChange.effective, PolicyChange.created_at).limit(1)).scalar_one_or_none()

    def all(self, controller_id: str) -> list[PolicyChange]:
        return list(self.session.execute(select(PolicyChange).where(PolicyChange.controller_id == controller_id)
                                         .order_by(PolicyChange.effective.desc())).scalars())


_ASK_AGAIN = Text(zh="部分变化需要您重新同意，生效前我们会请您确认。",
                  en="Some changes need your consent again; we will ask you before they apply.",
                  zh_tw="部分變化需要您重新同意，生效前我們會請您確認。")
_NOTHING_TO_DO = Text(zh="这些变化无需您另行操作。", en="You do not need to do anything.",
                      zh_tw="這些變化無需您另行操作。")


def _title(change: PolicyChange) -> Text:
    day = change.effective.isoformat()
    return Text(zh=f"隐私政策将于{day}更新（{change.to_version}版）",
                en=f"Our privacy policy changes on {day} (version {change.to_version})",
                zh_tw=f"私隱政策將於{day}更新（{change.to_version}版）")


def _body(change: PolicyChange, summary: Sequence[Text], url: str) -> Text:
    day = change.effective.isoformat()
    zh = "\n".join(f"· {s.zh}" for s in summary)
    en = "\n".join(f"· {s.en}" for s in summary)
    consent = _ASK_AGAIN if change.needs_consent else _NOTHING_TO_DO
    consent_zh, consent_en, consent_tw = consent.zh, consent.en, consent.zh_tw
    return Text(zh=f"新版隐私政策将于{day}起施行。主要变化：\n{zh}\n\n{consent_zh}\n\n全文：{url}",
                en=f"The new privacy policy applies from {day}. What changes:\n{en}\n\n{consent_en}\n\nRead it: {url}",
                zh_tw=f"新版私隱政策將於{day}起施行。主要變化：\n{zh}\n\n{consent_tw}\n\n全文：{url}")
