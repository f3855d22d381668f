"""The regulator report of an incident, in Chinese or English, as Markdown or PDF.

`IncidentReports(session).facts(...)` gathers what the report says (the record, the people affected, the clocks and
filings, the notices and how their messages fared, the timeline from the audit log); `build_report` turns those
facts into sections (pure), and `to_markdown` / `to_pdf` lay them out. Chinese is set in STSong-Light, a CID font
every PDF reader provides, so no font file ships.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from charter.announcements import policy_in_force
from charter.audit.models import AuditEvent
from charter.core.db import utcnow
from charter.core.i18n import Lang, Text
from charter.incidents.clocks import ClockState
from charter.incidents.models import Incident, IncidentFiling, IncidentNotice
from charter.incidents.services import Incidents
from charter.jurisdictions import required_notice_elements
from charter.outbox.models import OutboxMessage
from charter.policy.schema import PolicyVersion

__all__ = ["IncidentReports", "Report", "ReportFacts", "build_report", "to_markdown", "to_pdf"]

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))


@dataclass(frozen=True)
class NoticeFacts:
    notice: IncidentNotice
    messages: dict[str, dict[str, int]]
    """Channel → status → messages."""


@dataclass(frozen=True)
class ReportFacts:
    incident: Incident
    policy: PolicyVersion | None
    clocks: list[ClockState]
    filings: list[IncidentFiling]
    affected: dict[str, int]
    notices: list[NoticeFacts]
    timeline: list[tuple[dt.datetime, str, str]]
    """(when, action, actor) from the audit log."""
    generated_at: dt.datetime


@dataclass(frozen=True)
class Section:
    title: str
    rows: list[tuple[str, str]] = field(default_factory=list)
    table: tuple[list[str], list[list[str]]] | None = None
    paragraphs: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Report:
    title: str
    subtitle: str
    sections: list[Section]


class IncidentReports:
    def __init__(self, session: Session) -> None:
        self.session = session

    def facts(self, controller_id: str, incident_id: str, now: dt.datetime | None = None) -> ReportFacts:
        incidents = Incidents(self.session)
        incident = incidents.get(controller_id, incident_id)
        return ReportFacts(
            incident=incident, policy=policy_in_force(self.session, controller_id),
            clocks=incidents.clocks(incident, now), filings=incidents.filings(incident),
            affected=incidents.affected(incident),
            notices=[NoticeFacts(n, self._messages(controller_id, n)) for n in incidents.notices(incident)],
            timeline=self._timeline(controller_id, incident), generated_at=now or utcnow())

    def _messages(self, controller_id: str, notice: IncidentNotice) -> dict[str, dict[str, int]]:
        rows = self.session.execute(select(OutboxMessage.channel, OutboxMessage.status, func.count()).where(
            OutboxMessage.controller_id == controller_id,
            OutboxMessage.idempotency_key.like(f"incident:{notice.id}:%")).group_by(
            OutboxMessage.channel, OutboxMessage.status)).all()
        out: dict[str, dict[str, int]] = {}
        for channel, status, n in rows:
            out.setdefault(channel, {})[status] = n
        return out

    def _timeline(self, controller_id: str, incident: Incident) -> list[tuple[dt.datetime, str, str]]:
        events = self.session.execute(select(AuditEvent).where(
            AuditEvent.controller_id == controller_id, AuditEvent.target == f"incident:{incident.id}")
            .order_by(AuditEvent.seq)).scalars()
        return [(e.at, e.action, e.actor) for e in events]


# --- the report's words ----------------------------------------------------------------------------------------

W = {
    "title": Text("个人信息安全事件报告", "Personal information security incident report"),
    "summary": Text("一、事件概况", "1. Incident summary"),
    "data": Text("二、涉及的个人信息及受影响的个人", "2. Personal information and people affected"),
    "clocks": Text("三、报告时限", "3. Reporting deadlines"),
    "notices": Text("四、补救措施及对个人的告知", "4. Measures taken and notices to individuals"),
    "contact": Text("五、联系方式", "5. Contact"),
    "timeline": Text("六、处置过程", "6. Timeline"),
    "controller": Text("个人信息处理者", "Controller"),
    "reference": Text("事件编号", "Reference"),
    "headline": Text("事件名称", "Title"),
    "status": Text("状态", "Status"),
    "discovered": Text("发现时间", "Discovered"),
    "found_by": Text("发现人", "Found by"),
    "window": Text("发生时段", "Time window"),
    "location": Text("发生地点", "Where"),
    "description": Text("事件经过", "What happened"),
    "systems": Text("涉及的系统", "Systems involved"),
    "police": Text("是否已报警", "Police informed"),
    "significant": Text("较大及以上事件", "Significant incident"),
    "cii": Text("关键信息基础设施", "Critical information infrastructure"),
    "categories": Text("涉及的个人信息种类", "Categories of personal information"),
    "estimate": Text("估计涉及人数", "People involved (estimate)"),
    "resolved": Text("经数据地图核实的受影响人数", "People affected, found from the data map"),
    "identities": Text("可联系的身份标识", "Contactable identities"),
    "not_resolved": Text("尚未核实", "not resolved yet"),
    "clock": Text("时限", "Deadline"),
    "due": Text("截止时间", "Due"),
    "state": Text("状态", "State"),
    "filed": Text("报告时间", "Filed"),
    "authority": Text("报告对象", "Authority"),
    "channel": Text("渠道", "Channel"),
    "messages": Text("消息状态", "Messages"),
    "none": Text("无", "none"),
    "yes": Text("是", "yes"),
    "no": Text("否", "no"),
    "generated": Text("生成时间", "Generated"),
    "notice": Text("告知", "Notice"),
    "announced": Text("已发布公告", "Public announcement published"),
    "sensitive": Text("敏感", "sensitive"),
}
STATES = {"running": Text("计时中", "running"), "overdue": Text("已超时", "OVERDUE"),
          "met": Text("已按时报告", "filed in time"), "late": Text("逾期报告", "filed late"),
          "open": Text("处理中", "open"), "closed": Text("已结案", "closed"),
          "draft": Text("草稿", "draft"), "sent": Text("已发送", "sent")}


class _Say:
    """The report's words in one language: `say("title")`."""

    def __init__(self, lang: Lang) -> None:
        self.lang = lang

    def __call__(self, key: str) -> str:
        return W[key].get(self.lang)

    def yes_no(self, value: bool) -> str:
        return self("yes") if value else self("no")


def _when(at: dt.datetime | None, lang: Lang) -> str:
    if at is None:
        return W["none"].get(lang)
    at = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
    return at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def build_report(facts: ReportFacts, lang: Lang) -> Report:
    """The report's sections in one language. Pure."""
    i, t = facts.incident, _Say(lang)
    name = facts.policy.controller.name.get(lang) if facts.policy else i.controller_id
    summary = Section(t("summary"), rows=[
        (t("controller"), name), (t("reference"), i.reference), (t("headline"), i.title),
        (t("status"), STATES[i.status].get(lang)), (t("discovered"), _when(i.discovered_at, lang)),
        (t("found_by"), i.found_by),
        (t("window"), f"{_when(i.occurred_from, lang)} – {_when(i.occurred_until, lang)}"),
        (t("location"), i.location), (t("description"), i.description), (t("systems"), ", ".join(i.systems)),
        (t("police"), t.yes_no(i.police_informed) + (f" ({i.police_reference})" if i.police_reference else "")),
        (t("significant"), t.yes_no(i.is_significant)), (t("cii"), t.yes_no(i.is_critical_infrastructure))])
    return Report(t("title"), f"{name} · {i.reference} · {t('generated')} {_when(facts.generated_at, lang)}",
                  [summary, _data(facts, lang), _clocks(facts, lang), _notices(facts, lang), _contact(facts, lang),
                   _timeline(facts, lang)])


def _data(facts: ReportFacts, lang: Lang) -> Section:
    t = _Say(lang)
    labels = []
    for category in facts.incident.categories:
        found = facts.policy.category(category) if facts.policy else None
        label = found.label.get(lang) if found else category
        labels.append(f"{label} ({category}{', ' + t('sensitive') if found and found.is_sensitive else ''})")
    rows = [(t("categories"), "; ".join(labels)), (t("estimate"), str(facts.incident.people_estimate))]
    if facts.incident.affected_resolved_at is None:
        rows.append((t("resolved"), t("not_resolved")))
    else:
        when = _when(facts.incident.affected_resolved_at, lang)
        rows.append((t("resolved"), f"{facts.incident.affected_count} ({when})"))
        kinds = ", ".join(f"{k}: {n}" for k, n in sorted(facts.affected.items()) if k != "subjects")
        rows.append((t("identities"), kinds or t("none")))
    return Section(t("data"), rows=rows)


def _clocks(facts: ReportFacts, lang: Lang) -> Section:
    t = _Say(lang)
    filings = {f.clock: f for f in facts.filings}
    body = []
    for state in facts.clocks:
        filing = filings.get(state.code)
        body.append([f"{state.label.get(lang)} ({state.hours} h; {state.citation})", _when(state.due_at, lang),
                     STATES[state.status.value].get(lang), _when(state.filed_at, lang),
                     f"{filing.authority} {filing.reference or ''}".strip() if filing else ""])
    table = ([t("clock"), t("due"), t("state"), t("filed"), t("authority")], body) if body else None
    return Section(t("clocks"), table=table, paragraphs=[] if body else [t("none")])


def _notices(facts: ReportFacts, lang: Lang) -> Section:
    t = _Say(lang)
    labels = {e.code: e.label for e in required_notice_elements(facts.incident.jurisdictions)}
    rows: list[tuple[str, str]] = []
    for n, item in enumerate(facts.notices, start=1):
        notice = item.notice
        head = f"{t('notice')} {n}: {STATES[notice.status].get(lang)}" + (
            f", {_when(notice.sent_at, lang)}" if notice.sent_at else "")
        rows.append((head, ", ".join(notice.channels) + (f"; {t('announced')}" if notice.announcement_id else "")))
        for code, value in notice.elements.items():
            label = labels[code].get(lang) if code in labels else code
            rows.append((label, Text(zh=value["zh"], en=value["en"], zh_tw=value.get("zh_tw")).get(lang)))
        for channel, statuses in sorted(item.messages.items()):
            rows.append((f"{t('messages')} ({channel})", ", ".join(f"{s}: {c}" for s, c in sorted(statuses.items()))))
    return Section(t("notices"), rows=rows, paragraphs=[] if rows else [t("none")])


def _contact(facts: ReportFacts, lang: Lang) -> Section:
    contacts = facts.policy.controller.contacts if facts.policy else []
    return Section(W["contact"].get(lang), rows=[(c.label.get(lang), c.value) for c in contacts])


def _timeline(facts: ReportFacts, lang: Lang) -> Section:
    return Section(W["timeline"].get(lang), table=(["", "", ""], [[_when(at, lang), action, actor]
                                                               for at, action, actor in facts.timeline]))


# --- layout -----------------------------------------------------------------------------------------------------


def _md(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", "<br>")


def to_markdown(report: Report) -> str:
    lines = [f"# {report.title}", "", f"_{report.subtitle}_", ""]
    for section in report.sections:
        lines += [f"## {section.title}", ""]
        if section.rows:
            lines += ["| | |", "|---|---|"] + [f"| {_md(k)} | {_md(v)} |" for k, v in section.rows] + [""]
        if section.table:
            head, body = section.table
            lines += ["| " + " | ".join(_md(h) for h in head) + " |", "|" + "---|" * len(head)]
            lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in body] + [""]
        lines += [*section.paragraphs, ""] if section.paragraphs else []
    return "\n".join(lines).rstrip() + "\n"


def _styles() -> dict[str, ParagraphStyle]:
    return {"title": ParagraphStyle("title", fontName=FONT, fontSize=17, leading=22, spaceAfter=4),
            "subtitle": ParagraphStyle("subtitle", fontName=FONT, fontSize=9, leading=12, textColor=colors.grey),
            "h2": ParagraphStyle("h2", fontName=FONT, fontSize=12.5, leading=17, spaceBefore=10, spaceAfter=5),
            "cell": ParagraphStyle("cell", fontName=FONT, fontSize=9, leading=12, wordWrap="CJK"),
            "body": ParagraphStyle("body", fontName=FONT, fontSize=10, leading=14, wordWrap="CJK")}


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _grid(rows: Sequence[Sequence[str]], widths: Sequence[float], style: ParagraphStyle,
          header: bool = False) -> Table:
    table = Table([[_p(c, style) for c in row] for row in rows], colWidths=list(widths), repeatRows=1 if header else 0)
    commands: list[Any] = [("GRID", (0, 0), (-1, -1), 0.4, colors.lightgrey), ("VALIGN", (0, 0), (-1, -1), "TOP")]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke))
    table.setStyle(TableStyle(commands))
    return table


def to_pdf(report: Report) -> bytes:
    styles, out = _styles(), io.BytesIO()
    width = A4[0] - 36 * mm
    story: list[object] = [_p(report.title, styles["title"]), _p(report.subtitle, styles["subtitle"])]
    for section in report.sections:
        story.append(_p(section.title, styles["h2"]))
        if section.rows:
            story.append(_grid([[k, v] for k, v in section.rows], [width * 0.3, width * 0.7], styles["cell"]))
        if section.table:
            head, body = section.table
            rows = [head, *body] if any(head) else body
            story.append(_grid(rows, [width / len(head)] * len(head), styles["cell"], header=any(head)))
        story += [_p(p, styles["body"]) for p in section.paragraphs]
        story.append(Spacer(1, 3 * mm))
    document = SimpleDocTemplate(out, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                                 bottomMargin=16 * mm, title=report.title, author="Charter")
    document.build(story)  # type: ignore[arg-type]
    return out.getvalue()
