"""The reports the operations leave behind, in Markdown with every label in Chinese and English: the controller
transfer report, the compelled-disclosure register and the closing report of a shutdown."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.orm import Session

from charter.operations.common import aware, delivery
from charter.operations.models import CompelledDisclosure, ControllerTransfer, Shutdown
from charter.retention.models import RetentionRun

__all__ = ["closing_report", "disclosure_register", "transfer_report"]


def _when(at: dt.datetime | dt.date | None) -> str:
    if at is None:
        return "—"
    if isinstance(at, dt.datetime):
        return aware(at).astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return at.isoformat()


def _rows(pairs: Sequence[tuple[str, str]]) -> list[str]:
    return ["| | |", "|---|---|", *(f"| {k} | {str(v).replace('|', '/').replace(chr(10), '<br>')} |"
                                    for k, v in pairs), ""]


def _counts(counts: dict[str, object] | None) -> str:
    if not counts:
        return "—"
    queued = counts.get("queued") or {}
    parts = [f"{k}: {v}" for k, v in (queued.items() if isinstance(queued, dict) else [])]
    parts += [f"{k}: {counts[k]}" for k in ("already", "suppressed", "invalid") if counts.get(k)]
    return ", ".join(parts) or "0"


def transfer_report(session: Session, transfer: ControllerTransfer) -> str:
    sent = delivery(session, transfer.controller_id, f"transfer:{transfer.id}")
    lines = [f"# 控制者变更报告 / Controller transfer report — {transfer.controller_id}", ""]
    lines += _rows([
        ("新持有方 / New holder", f"{transfer.new_holder} ({transfer.new_holder_contact})"),
        ("转移日期 / Transfer date", _when(transfer.transfer_date)),
        ("告知时间 / People told", _when(transfer.notified_at)),
        ("已排队的通知 / Notices queued", _counts(transfer.notice_counts)),
        ("通知送达情况 / Delivery", ", ".join(f"{k}: {v}" for k, v in sorted(sent.items())) or "—"),
        ("公告 / Announcement", transfer.announcement_id or "—"),
        ("承诺签署人 / Undertaking signed by", transfer.undertaking_signed_by or "—"),
        ("承诺签署时间 / Signed at", _when(transfer.undertaking_signed_at)),
        ("承诺 SHA-256 / Undertaking SHA-256", transfer.undertaking_sha256 or "—"),
        ("移交时间 / Handed over", _when(transfer.handed_over_at)),
        ("移交人 / Handed over by", transfer.handed_over_by or "—"),
    ])
    if transfer.undertaking:
        lines += ["## 承诺全文 / The undertaking", "", transfer.undertaking, ""]
    return "\n".join(lines)


def disclosure_register(disclosures: Sequence[CompelledDisclosure]) -> str:
    lines = ["# 依法提供个人信息登记 / Compelled disclosures", "",
             "| id | 提供时间 / disclosed | 机关 / authority | 依据 / grounds | 类别 / categories "
             "| 告知 / person told |",
             "|---|---|---|---|---|---|"]
    for d in disclosures:
        told = _when(d.notified_at) if d.notified_at else f"deferred until {_when(d.restricted_until)}"
        lines.append(f"| {d.id} | {_when(d.disclosed_at)} | {d.authority} | {d.grounds.replace('|', '/')} | "
                     f"{', '.join(d.categories)} | {told} |")
    return "\n".join(lines) + "\n"


def closing_report(session: Session, shutdown: Shutdown) -> str:
    sent = delivery(session, shutdown.controller_id, f"shutdown:{shutdown.id}")
    run = session.get(RetentionRun, shutdown.erasure_run_id) if shutdown.erasure_run_id else None
    lines = [f"# 停止运营报告 / Closing report — {shutdown.controller_id}", ""]
    lines += _rows([
        ("原因 / Reason", shutdown.reason),
        ("停止收集 / Collection stopped", _when(shutdown.stopped_at)),
        ("最后一日 / Last day", _when(shutdown.last_day)),
        ("告知时间 / People told", _when(shutdown.notified_at)),
        ("已排队的通知 / Notices queued", _counts(shutdown.notice_counts)),
        ("通知送达情况 / Delivery", ", ".join(f"{k}: {v}" for k, v in sorted(sent.items())) or "—"),
        ("公告 / Announcement", shutdown.announcement_id or "—"),
        ("删除或匿名化 / Erased or anonymised", _when(shutdown.erased_at)),
    ])
    if run is None:
        lines += ["数据尚未删除 / The data has not been erased yet.", ""]
        return "\n".join(lines)
    lines += [f"## 各数据集 / Every dataset (data map {run.datamap_version}, run {run.id})", "",
              "| collection | status | deleted | anonymised | holds | note |", "|---|---|---|---|---|---|"]
    for o in run.outcomes:
        note = o.get("error") or ("staff must erase it by hand" if o.get("status") == "manual" else "")
        holds = o.get("holds") or []
        lines.append(f"| {o['collection']} | {o['status']} | {o['rows_deleted']} | {o['rows_changed']} | "
                     f"{', '.join(str(h) for h in holds) if isinstance(holds, list) else ''} | {note} |")
    lines += ["", f"合计 / Total: {run.rows_deleted} deleted, {run.rows_changed} anonymised, {run.errors} error(s).",
              ""]
    return "\n".join(lines)
