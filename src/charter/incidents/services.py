"""Incidents: record (checked against the policy and the data map), file with regulators, run the clocks; and the
notices to the people affected, checked for every required element, sent through the outbox or announced.
Every step is audited; services never commit."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from charter.announcements import (
    Announcements,
    Audience,
    FanOut,
    Recipient,
    fan_out,
    offered_languages,
    policy_in_force,
)
from charter.announcements.audience import LanguageOf
from charter.audit.services import AuditLog
from charter.core.crypto import Keyring
from charter.core.db import utcnow
from charter.core.errors import CharterError, Conflict, NotFound
from charter.core.i18n import Lang, Text
from charter.datamap.services import DataMapStore, as_datamap
from charter.incidents.clocks import ClockState, ClockStatus, IncidentFacts, applicable_clocks, clock_states
from charter.incidents.elements import CONTACT_ELEMENTS, check_elements, contact_text, required_elements
from charter.incidents.models import (
    AffectedPerson,
    Incident,
    IncidentFiling,
    IncidentNotice,
    IncidentStatus,
    NoticeStatus,
)
from charter.jurisdictions import NoticeElement
from charter.outbox import Channel, Outbox
from charter.policy.schema import PolicyVersion
from charter.subjects.services import REENCRYPTORS

__all__ = ["IncidentIn", "IncidentNotices", "Incidents", "add_counts", "affected_context"]

CHANNELS = {"email": Channel.EMAIL, "sms": Channel.SMS, "push": Channel.PUSH, "in_app": Channel.IN_APP}
_BY_KIND = {"email": Channel.EMAIL, "phone": Channel.SMS, "account_id": Channel.PUSH}
MAX_TEXT = 10_000


def affected_context(controller_id: str) -> str:
    return f"incident_affected.value:{controller_id}"


def _utc(at: dt.datetime) -> dt.datetime:
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class IncidentIn:
    """What is recorded about an incident (GB/T 35273-2020 §10.1)."""

    title: str
    found_by: str
    discovered_at: dt.datetime
    location: str
    description: str
    categories: Sequence[str]
    systems: Sequence[str]
    people_estimate: int
    police_informed: bool
    occurred_from: dt.datetime | None = None
    occurred_until: dt.datetime | None = None
    police_reference: str | None = None
    is_significant: bool = False
    is_critical_infrastructure: bool = False


def _policy(session: Session, controller_id: str) -> PolicyVersion:
    policy = policy_in_force(session, controller_id)
    if policy is None:
        raise CharterError(f"controller {controller_id!r} has no policy in force",
                           fix="Publish the policy first: its categories and jurisdictions shape the incident.")
    return policy


def _text(value: str, field: str, limit: int = MAX_TEXT) -> str:
    value = value.strip()
    if not value:
        raise CharterError(f"{field} is empty", field=field, fix="Say it; the regulator report needs it.")
    if len(value) > limit:
        raise CharterError(f"{field} is longer than {limit} characters", field=field)
    return value


class Incidents:
    def __init__(self, session: Session, *, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.session = session
        self.clock = clock
        self.audit = AuditLog(session)

    def record(self, controller_id: str, data: IncidentIn, *, actor: str) -> Incident:
        """Record an incident; its clocks start at `discovered_at`.

        Example: `Incidents(session).record("acme", IncidentIn(title="Leaked export", found_by="SOC", …),
        actor="dpo")`
        """
        policy = _policy(self.session, controller_id)
        now = self.clock()
        discovered = _utc(data.discovered_at)
        if discovered > now + dt.timedelta(minutes=5):
            raise CharterError("discovered_at is in the future", field="discovered_at",
                               fix="Give when the incident was found (UTC, or with a time zone).")
        start, end = (_utc(d) if d else None for d in (data.occurred_from, data.occurred_until))
        if start and end and start > end:
            raise CharterError("the incident's window ends before it starts", field="occurred_until")
        self._check_categories(policy, data.categories)
        self._check_systems(controller_id, data.systems)
        if data.people_estimate < 0:
            raise CharterError("people_estimate cannot be negative", field="people_estimate")
        incident = Incident(
            id=str(uuid.uuid4()), controller_id=controller_id, reference=self._reference(controller_id, discovered),
            title=_text(data.title, "title", 200), found_by=_text(data.found_by, "found_by", 200),
            discovered_at=discovered, occurred_from=start, occurred_until=end,
            location=_text(data.location, "location", 500), description=_text(data.description, "description"),
            categories=list(dict.fromkeys(data.categories)), systems=list(dict.fromkeys(data.systems)),
            people_estimate=data.people_estimate, police_informed=data.police_informed,
            police_reference=(data.police_reference or "").strip() or None, is_significant=data.is_significant,
            is_critical_infrastructure=data.is_critical_infrastructure,
            jurisdictions=[j.value for j in policy.jurisdictions], status=IncidentStatus.OPEN.value, created_by=actor)
        self.session.add(incident)
        self.session.flush()
        self.audit.record(controller_id, actor=actor, action="incident.recorded", target=f"incident:{incident.id}",
                          data={"reference": incident.reference, "categories": incident.categories,
                                "systems": incident.systems, "people_estimate": incident.people_estimate,
                                "police_informed": incident.police_informed, "is_significant": data.is_significant,
                                "is_critical_infrastructure": data.is_critical_infrastructure,
                                "discovered_at": discovered.isoformat()})
        return incident

    def _check_categories(self, policy: PolicyVersion, categories: Sequence[str]) -> None:
        if not categories:
            raise CharterError("name the categories of personal information involved", field="categories",
                               fix=f"Use the policy's categories: {', '.join(c.id for c in policy.categories)}.")
        for i, category in enumerate(categories):
            if policy.category(category) is None:
                raise CharterError(f"{category!r} is not a category of the policy", field=f"categories[{i}]",
                                   fix=f"Use one of: {', '.join(c.id for c in policy.categories)}.")

    def _check_systems(self, controller_id: str, systems: Sequence[str]) -> None:
        if not systems:
            raise CharterError("name the systems involved", field="systems",
                               fix="Give data map system or dataset ids, or `dataset.collection`.")
        try:
            datamap = as_datamap(DataMapStore(self.session).current(controller_id))
        except NotFound as exc:
            raise CharterError("systems are named from the data map, and this controller has none published",
                               field="systems", fix="Publish the data map first (`charter datamap publish`).") from exc
        known = {s.id for s in datamap.systems} | {d.id for _s, d in datamap.datasets()} | {
            f"{d.id}.{c.name}" for _s, d in datamap.datasets() for c in d.collections}
        for i, name in enumerate(systems):
            if name not in known:
                raise CharterError(f"{name!r} is not a system, dataset or collection of the data map",
                                   field=f"systems[{i}]", fix=f"Use one of: {', '.join(sorted(known))}.")

    def _reference(self, controller_id: str, discovered: dt.datetime) -> str:
        count = self.session.execute(select(func.count()).select_from(Incident).where(
            Incident.controller_id == controller_id)).scalar_one()
        return f"INC-{discovered:%Y%m%d}-{count + 1:04d}"

    def get(self, controller_id: str, incident_id: str) -> Incident:
        incident = self.session.get(Incident, incident_id)
        if incident is None or incident.controller_id != controller_id:
            raise NotFound(f"no incident {incident_id!r}", fix="List incidents with `charter incidents list`.")
        return incident

    def all(self, controller_id: str, *, status: str | None = None) -> list[Incident]:
        q = select(Incident).where(Incident.controller_id == controller_id)
        if status is not None:
            q = q.where(Incident.status == status)
        return list(self.session.execute(q.order_by(Incident.discovered_at.desc(), Incident.id)).scalars())

    def close(self, controller_id: str, incident_id: str, *, actor: str) -> Incident:
        incident = self.get(controller_id, incident_id)
        if incident.status == IncidentStatus.CLOSED.value:
            raise Conflict("the incident is already closed")
        incident.status, incident.closed_at = IncidentStatus.CLOSED.value, self.clock()
        self.audit.record(controller_id, actor=actor, action="incident.closed", target=f"incident:{incident.id}")
        return incident

    # Regulators and clocks ------------------------------------------------------------------------------------

    def file(self, controller_id: str, incident_id: str, *, clock: str, authority: str, actor: str,
             reference: str | None = None, filed_at: dt.datetime | None = None) -> IncidentFiling:
        """Record that a report was made to an authority; it stops that clock."""
        incident = self.get(controller_id, incident_id)
        codes = [c.code for c in applicable_clocks(_facts(incident), incident.jurisdictions)]
        if clock not in codes:
            raise CharterError(f"{clock!r} is not a clock this incident runs", field="clock",
                               fix=f"Use one of: {', '.join(codes) or '(none: no deadline applies)'}.")
        at = _utc(filed_at) if filed_at else self.clock()
        if at > self.clock() + dt.timedelta(minutes=5):
            raise CharterError("filed_at is in the future", field="filed_at")
        if self.session.execute(select(IncidentFiling.id).where(
                IncidentFiling.incident_id == incident.id, IncidentFiling.clock == clock)).first():
            raise Conflict(f"a filing for {clock} is already recorded", field="clock")
        filing = IncidentFiling(id=str(uuid.uuid4()), incident_id=incident.id, controller_id=controller_id,
                                clock=clock, authority=_text(authority, "authority", 200),
                                reference=(reference or "").strip() or None, filed_at=at, filed_by=actor)
        self.session.add(filing)
        self.session.flush()
        self.audit.record(controller_id, actor=actor, action="incident.filed", target=f"incident:{incident.id}",
                          data={"clock": clock, "filed_at": at.isoformat(), "filing_id": filing.id})
        return filing

    def filings(self, incident: Incident) -> list[IncidentFiling]:
        return list(self.session.execute(select(IncidentFiling).where(IncidentFiling.incident_id == incident.id)
                                         .order_by(IncidentFiling.filed_at)).scalars())

    def clocks(self, incident: Incident, now: dt.datetime | None = None) -> list[ClockState]:
        filed = {f.clock: f.filed_at for f in self.filings(incident)}
        return clock_states(_facts(incident), incident.jurisdictions, filed, now or self.clock())

    def overdue(self, controller_id: str, now: dt.datetime | None = None) -> list[tuple[Incident, ClockState]]:
        """Every open incident's clocks that have run out with no filing recorded."""
        at = now or self.clock()
        return [(incident, state) for incident in self.all(controller_id, status=IncidentStatus.OPEN.value)
                for state in self.clocks(incident, at) if state.status is ClockStatus.OVERDUE]

    def notices(self, incident: Incident) -> list[IncidentNotice]:
        return list(self.session.execute(select(IncidentNotice).where(IncidentNotice.incident_id == incident.id)
                                         .order_by(IncidentNotice.created_at, IncidentNotice.id)).scalars())

    def affected(self, incident: Incident) -> dict[str, int]:
        """How many identities of each kind were found, and how many people Charter knows among them."""
        rows = self.session.execute(select(AffectedPerson.kind, func.count()).where(
            AffectedPerson.incident_id == incident.id).group_by(AffectedPerson.kind)).all()
        counts: dict[str, int] = {kind: n for kind, n in rows}  # noqa: C416 - rows are Row objects, not pairs
        counts["subjects"] = self.session.execute(select(func.count(func.distinct(AffectedPerson.subject_id))).where(
            AffectedPerson.incident_id == incident.id)).scalar_one()
        return counts


def _facts(incident: Incident) -> IncidentFacts:
    return IncidentFacts(_utc(incident.discovered_at), incident.is_significant, incident.is_critical_infrastructure)


class IncidentNotices:
    """Notices to the people affected: drafted complete, then sent once."""

    def __init__(self, session: Session, keyring: Keyring, *, outbox: Outbox | None = None,
                 language_of: LanguageOf | None = None) -> None:
        self.session = session
        self.keyring = keyring
        self.outbox = outbox or Outbox(session, keyring)
        self.language_of = language_of
        self.audit = AuditLog(session)
        self.incidents = Incidents(session)

    def draft(self, controller_id: str, incident_id: str, *, elements: Mapping[str, Text],
              channels: Sequence[str], announce: bool = False, actor: str) -> IncidentNotice:
        """A notice carrying every element the controller's jurisdictions require; refused, naming the element,
        when one is missing. The contact elements default to the policy's contacts."""
        incident = self.incidents.get(controller_id, incident_id)
        policy = _policy(self.session, controller_id)
        chosen = self._channels(channels, announce)
        given = self._complete(policy, elements)
        notice = IncidentNotice(id=str(uuid.uuid4()), incident_id=incident.id, controller_id=controller_id,
                                elements={code: _stored(text) for code, text in given.items()}, channels=chosen,
                                announce=announce, status=NoticeStatus.DRAFT.value, created_by=actor)
        self.session.add(notice)
        self.session.flush()
        self.audit.record(controller_id, actor=actor, action="incident.notice_drafted",
                          target=f"incident:{incident.id}",
                          data={"notice_id": notice.id, "channels": chosen, "announce": announce,
                                "elements": sorted(given)})
        return notice

    def _channels(self, channels: Sequence[str], announce: bool) -> list[str]:
        for i, name in enumerate(channels):
            if name not in CHANNELS:
                raise CharterError(f"unknown channel {name!r}", field=f"channels[{i}]",
                                   fix=f"Use any of: {', '.join(CHANNELS)}; or announce publicly.")
        if not channels and not announce:
            raise CharterError("the notice goes nowhere", field="channels",
                               fix="Send it by email, SMS, push or in-app, or announce it publicly (or both).")
        return list(dict.fromkeys(channels))

    def _complete(self, policy: PolicyVersion, elements: Mapping[str, Text]) -> dict[str, Text]:
        required = required_elements(policy)
        given = dict(elements)
        for element in required:
            if element.code in CONTACT_ELEMENTS and element.code not in given:
                given[element.code] = contact_text(policy)
        check_elements(required, given, needs_zh_tw=Lang.ZH_TW in offered_languages(policy))
        return given

    def get(self, controller_id: str, notice_id: str) -> IncidentNotice:
        notice = self.session.get(IncidentNotice, notice_id)
        if notice is None or notice.controller_id != controller_id:
            raise NotFound(f"no incident notice {notice_id!r}")
        return notice

    # Sending ---------------------------------------------------------------------------------------------------

    def start(self, controller_id: str, notice_id: str) -> tuple[IncidentNotice, Incident]:
        """Check a notice can be sent now: a draft, still complete, to people already found."""
        notice = self.get(controller_id, notice_id)
        if notice.status != NoticeStatus.DRAFT.value:
            raise Conflict("this notice was already sent", fix="Draft a new notice for further news.")
        incident = self.incidents.get(controller_id, notice.incident_id)
        self._complete(_policy(self.session, controller_id),
                       {code: _text_of(v) for code, v in notice.elements.items()})
        if notice.channels and incident.affected_resolved_at is None:
            raise CharterError("the people affected have not been resolved yet", field="channels",
                               fix="Run `charter incidents resolve` (or POST …/resolve) first, or only announce.")
        return notice, incident

    def send(self, controller_id: str, notice_id: str, *, actor: str, page: int = 1000) -> IncidentNotice:
        """Queue the notice for every person affected by every chosen channel, then announce it if asked."""
        notice, incident = self.start(controller_id, notice_id)
        after, total = 0, FanOut()
        while True:
            after_next, counts = self.send_page(notice, incident, after=after, limit=page, actor=actor)
            add_counts(total, counts)
            if after_next is None:
                break
            after = after_next
        return self.finish(notice, incident, total, actor=actor)

    def send_page(self, notice: IncidentNotice, incident: Incident, *, after: int, limit: int,
                  actor: str) -> tuple[int | None, FanOut]:
        """One page of affected people (by id after `after`); returns the last id (None when done) and counts."""
        rows = list(self.session.execute(select(AffectedPerson).where(
            AffectedPerson.incident_id == incident.id, AffectedPerson.id > after)
            .order_by(AffectedPerson.id).limit(limit)).scalars())
        if not rows:
            return None, FanOut()
        counts = fan_out(self.outbox, notice.controller_id, self._recipients(notice, rows, self._firsts(rows)),
                         template="breach_notice", params=self._params(notice, incident),
                         key=f"incident:{notice.id}", actor=actor)
        return rows[-1].id, counts

    def _firsts(self, rows: Sequence[AffectedPerson]) -> set[int]:
        """The first identity row of each person on the page: their one in-app notice goes with it."""
        subjects = {r.subject_id for r in rows if r.subject_id is not None}
        if not subjects:
            return set()
        return set(self.session.execute(select(func.min(AffectedPerson.id)).where(
            AffectedPerson.incident_id == rows[0].incident_id, AffectedPerson.subject_id.in_(subjects))
            .group_by(AffectedPerson.subject_id)).scalars())

    def _recipients(self, notice: IncidentNotice, rows: Sequence[AffectedPerson],
                    firsts: set[int]) -> Iterator[Recipient]:
        wanted = {CHANNELS[c] for c in notice.channels}
        language_of = self.language_of or Audience(self.session, self.keyring).languages_of(
            notice.controller_id, {row.subject_id for row in rows})
        context = affected_context(notice.controller_id)
        for row in rows:
            language = language_of(row.subject_id)
            channel = _BY_KIND.get(row.kind)
            if channel in wanted:
                yield Recipient(channel, self.keyring.decrypt(row.value_encrypted, context), row.subject_id,
                                language, f"{row.kind}:{row.index_hash[:32]}")
            if Channel.IN_APP in wanted and row.subject_id is not None and row.id in firsts:
                yield Recipient(Channel.IN_APP, None, row.subject_id, language, f"in_app:{row.subject_id}")

    def _params(self, notice: IncidentNotice, incident: Incident) -> Callable[[Lang], Mapping[str, object]]:
        required = {e.code: e for e in required_elements(_policy(self.session, notice.controller_id))}
        elements = [{"label": required[code].label, "text": _text_of(value)}
                    for code, value in notice.elements.items() if code not in CONTACT_ELEMENTS and code in required]
        contact = next((_text_of(notice.elements[c]) for c in CONTACT_ELEMENTS if c in notice.elements), Text("", ""))
        occurred = (incident.occurred_from or incident.discovered_at).date().isoformat()
        return lambda _lang: {"elements": elements, "contact": contact, "occurred": occurred}

    def finish(self, notice: IncidentNotice, incident: Incident, counts: FanOut, *, actor: str) -> IncidentNotice:
        if notice.announce:
            title, body = announcement_text(notice, incident, required_elements(
                _policy(self.session, notice.controller_id)))
            published = Announcements(self.session).publish(notice.controller_id, kind="incident", title=title,
                                                            body=body, actor=actor, source=f"incident:{incident.id}")
            notice.announcement_id = published.id
        notice.status, notice.sent_at, notice.sent_by = NoticeStatus.SENT.value, utcnow(), actor
        notice.counts = counts.as_json()
        self.audit.record(notice.controller_id, actor=actor, action="incident.notice_sent",
                          target=f"incident:{incident.id}",
                          data={"notice_id": notice.id, **counts.as_json(), "announcement_id": notice.announcement_id})
        return notice


def announcement_text(notice: IncidentNotice, incident: Incident,
                      required: Sequence[NoticeElement]) -> tuple[Text, Text]:
    labels = {e.code: e.label for e in required}
    title = Text(zh=f"关于个人信息安全事件的公告（{incident.reference}）",
                 en=f"Notice of a personal information security incident ({incident.reference})",
                 zh_tw=f"關於個人資料安全事件的公告（{incident.reference}）")

    def body(lang: str) -> str:
        sep = ": " if lang == "en" else "："
        return "\n\n".join(f"{labels[code].get(lang)}{sep}{_text_of(value).get(lang)}"
                           for code, value in notice.elements.items() if code in labels)

    return title, Text(zh=body("zh-CN"), en=body("en"), zh_tw=body("zh-TW"))


def _stored(text: Text) -> dict[str, str]:
    out = {"zh": text.zh.strip(), "en": text.en.strip()}
    if text.zh_tw and text.zh_tw.strip():
        out["zh_tw"] = text.zh_tw.strip()
    return out


def _text_of(stored: Mapping[str, str]) -> Text:
    return Text(zh=stored["zh"], en=stored["en"], zh_tw=stored.get("zh_tw"))


def add_counts(total: FanOut, more: FanOut) -> None:
    for channel, n in more.queued.items():
        total.queued[channel] = total.queued.get(channel, 0) + n
    total.already += more.already
    total.suppressed += more.suppressed
    total.invalid += more.invalid


def reencrypt_affected(session: Session, old: Keyring, new: Keyring) -> int:
    done = 0
    for row in session.execute(select(AffectedPerson)).scalars():
        if new.key_id_of(row.value_encrypted) == new.active:
            continue
        ctx = affected_context(row.controller_id)
        row.value_encrypted = new.encrypt(old.decrypt(row.value_encrypted, ctx), ctx)
        done += 1
    session.flush()
    return done


REENCRYPTORS.append(reencrypt_affected)
