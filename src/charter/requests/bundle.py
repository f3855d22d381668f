"""The access bundle: everything found about the person, as JSON, one CSV per collection, and a readable HTML
report in their language with their consent history, the automated decisions on record and the recipients their
data went to (LAN-SCOPE: which third party holds what). Portability is the same rows as machine-readable JSON
for another handler.

```python
bundle = collect(session, keyring, request)
zip_bytes = as_zip(bundle)
```
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from charter.connectors.base import Row
from charter.core.crypto import Keyring
from charter.core.errors import CharterError
from charter.core.i18n import Lang, Text
from charter.disclosures.services import DisclosureLog
from charter.jurisdictions import RequestKind
from charter.policy.schema import PolicyVersion
from charter.policy.services import PolicyStore, as_policy
from charter.requests.automated import AutomatedDecisions
from charter.requests.lifecycle import Status
from charter.requests.models import DataRequest, RequestTask
from charter.requests.runner import result_context
from charter.requests.status import HeldOut, describe
from charter.requests.texts import KIND_LABELS

__all__ = ["Bundle", "ConsentHistory", "as_csv", "as_html", "as_json", "as_portability", "as_zip", "collect"]

_ENV = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(),
                   trim_blocks=True, lstrip_blocks=True)


@dataclass(frozen=True)
class ConsentEvent:
    purpose: str
    action: str
    at: str
    policy_version: str


class ConsentHistory:
    """Where the bundle reads the person's consent events from; replaced once the consent ledger is wired in."""

    @staticmethod
    def of(session: Session, keyring: Keyring, controller_id: str, subject_id: str) -> list[ConsentEvent]:
        return []


@dataclass
class Bundle:
    request: DataRequest
    policy: PolicyVersion
    collections: dict[str, list[Row]]
    consents: list[ConsentEvent] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    recipients: list[dict[str, Any]] = field(default_factory=list)
    held: list[HeldOut] = field(default_factory=list)

    @property
    def lang(self) -> Lang:
        return Lang.parse(self.request.language)


def collect(session: Session, keyring: Keyring, request: DataRequest) -> Bundle:
    """Everything the person's access request found; only for a completed access or portability request."""
    if request.kind not in (RequestKind.ACCESS.value, RequestKind.PORTABILITY.value) or \
            not Status(request.status).is_done or request.status == Status.REFUSED.value:
        raise CharterError("there is no bundle for this request (yet)", field="request_id",
                           fix="A bundle exists once an access or portability request is completed.")
    policy = as_policy(PolicyStore(session).get(request.controller_id, request.policy_version or ""))
    subject = request.subject_id or ""
    return Bundle(request=request, policy=policy, collections=_rows(session, keyring, request),
                  consents=ConsentHistory.of(session, keyring, request.controller_id, subject),
                  decisions=_decisions(session, keyring, request.controller_id, subject, Lang.parse(request.language)),
                  recipients=_recipients(session, policy, request.controller_id, subject,
                                         Lang.parse(request.language)),
                  held=describe(session, keyring, request, for_staff=False).held_items)


def _rows(session: Session, keyring: Keyring, request: DataRequest) -> dict[str, list[Row]]:
    found = session.execute(select(RequestTask.collection, RequestTask.result_encrypted).where(
        RequestTask.request_id == request.id, RequestTask.operation == "retrieve")
        .order_by(RequestTask.position)).all()
    return {key: json.loads(keyring.decrypt(blob, result_context(request.controller_id))) if blob else []
            for key, blob in found if key}


def _decisions(session: Session, keyring: Keyring, controller_id: str, subject_id: str,
               lang: Lang) -> list[dict[str, Any]]:
    return [{"id": d.id, "kind": d.kind, "outcome": d.outcome, "logic_version": d.logic_version,
             "made_at": d.made_at.isoformat(), "inputs": dict(d.inputs), "explanation": d.explanation.get(lang)}
            for d in AutomatedDecisions(session, keyring).of_subject(controller_id, subject_id)]


def _recipients(session: Session, policy: PolicyVersion, controller_id: str, subject_id: str,
                lang: Lang) -> list[dict[str, Any]]:
    """Each recipient the person's data was disclosed to, with who they are and what they hold."""
    out = []
    for recipient_id, categories in DisclosureLog(session).recipients_of(controller_id, subject_id):
        recipient = policy.recipient(recipient_id)
        out.append({"id": recipient_id, "name": recipient.name.get(lang) if recipient else recipient_id,
                    "role": recipient.role.value if recipient else "unknown",
                    "is_independent_controller": bool(recipient and recipient.role.value == "independent_controller"),
                    "contact": recipient.contact if recipient else None,
                    "region": recipient.region if recipient else None,
                    "categories": [_category(policy, c, lang) for c in sorted(categories)]})
    return out


def _category(policy: PolicyVersion, category_id: str, lang: Lang) -> str:
    category = policy.category(category_id)
    return category.label.get(lang) if category else category_id


def as_json(bundle: Bundle) -> dict[str, Any]:
    r = bundle.request
    return {"schema": "charter.access-bundle/v1", "controller": bundle.policy.controller.id,
            "reference": r.reference, "kind": r.kind, "generated_at": dt.datetime.now(dt.UTC).isoformat(),
            "policy_version": bundle.policy.version, "collections": bundle.collections,
            "consent_history": [vars(e) for e in bundle.consents], "automated_decisions": bundle.decisions,
            "recipients": bundle.recipients, "held_items": [h.model_dump() for h in bundle.held]}


def as_portability(bundle: Bundle) -> dict[str, Any]:
    """Machine-readable, for another handler: the person's records by collection, nothing about Charter."""
    return {"schema": "charter.portability/v1", "source": bundle.policy.controller.website,
            "exported_at": dt.datetime.now(dt.UTC).isoformat(),
            "records": [{"collection": key, "rows": rows} for key, rows in bundle.collections.items() if rows]}


def as_csv(bundle: Bundle) -> dict[str, str]:
    """`collection.csv` → its rows, columns in the order first seen."""
    files = {}
    for key, rows in bundle.collections.items():
        columns = list(dict.fromkeys(c for row in rows for c in row))
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
        files[f"{key}.csv"] = out.getvalue()
    return files


_UI: dict[str, Text] = {
    "title": Text(zh="您的个人信息副本", en="A copy of your personal data", zh_tw="您的個人資料副本"),
    "data": Text(zh="我们保存的信息", en="What we hold", zh_tw="我們保存的資料"),
    "none": Text(zh="没有记录", en="No records", zh_tw="沒有記錄"),
    "consents": Text(zh="同意记录", en="Your consent history", zh_tw="同意記錄"),
    "decisions": Text(zh="自动化决策记录", en="Automated decisions on record", zh_tw="自動化決策記錄"),
    "recipients": Text(zh="接收您信息的第三方", en="Who received your data", zh_tw="接收您資料的第三方"),
    "independent": Text(zh="独立处理者（按其自身条款处理）", en="an independent controller (its own terms apply)",
                        zh_tw="獨立處理者（按其自身條款處理）"),
    "held": Text(zh="依法保留的信息", en="Kept as the law requires", zh_tw="依法保留的資料"),
    "reference": Text(zh="编号", en="Reference", zh_tw="編號"),
}


def as_html(bundle: Bundle) -> str:
    lang = bundle.lang
    return _ENV.get_template("bundle.html.jinja").render(
        lang=lang.value, ui={k: v.get(lang) for k, v in _UI.items()}, bundle=bundle,
        kind=KIND_LABELS[RequestKind(bundle.request.kind)].get(lang),
        controller=bundle.policy.controller.name.get(lang),
        collections={k: (list(dict.fromkeys(c for row in rows for c in row)), rows)
                     for k, rows in bundle.collections.items()})


def as_zip(bundle: Bundle) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bundle.json", json.dumps(as_json(bundle), ensure_ascii=False, indent=2, default=str))
        archive.writestr("report.html", as_html(bundle))
        for name, text in as_csv(bundle).items():
            archive.writestr(f"csv/{name}", text)
        if bundle.request.kind == RequestKind.PORTABILITY.value:
            archive.writestr("portability.json", json.dumps(as_portability(bundle), ensure_ascii=False, indent=2,
                                                            default=str))
    return buffer.getvalue()
