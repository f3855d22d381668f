"""Automated decisions the host reports (inputs, logic version, outcome, a plain explanation), their
explanation to the person, and appeals to a human (LUB-AUTOMATED, PIPL art. 24)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from charter.audit.services import AuditLog
from charter.core.crypto import Keyring
from charter.core.db import utcnow
from charter.core.errors import CharterError, Conflict, NotFound
from charter.core.i18n import Text
from charter.requests.models import Appeal, AutomatedDecision, DataRequest
from charter.requests.services import RequestService

__all__ = ["AppealOutcome", "AutomatedDecisions", "DecisionView"]

_CODE_MAX = 64


def details_context(controller_id: str) -> str:
    return f"automated_decisions.details:{controller_id}"


def statement_context(controller_id: str) -> str:
    return f"request_appeals.statement:{controller_id}"


@dataclass(frozen=True)
class DecisionView:
    id: str
    kind: str
    logic_version: str
    outcome: str
    is_significant: bool
    made_at: dt.datetime
    inputs: Mapping[str, Any]
    explanation: Text


class AppealOutcome:
    UPHELD = "upheld"
    OVERTURNED = "overturned"
    ALL = (UPHELD, OVERTURNED)


def _code(value: str, name: str) -> str:
    if not value or len(value) > _CODE_MAX or not value.replace("_", "").replace("-", "").replace(".", "").isalnum():
        raise CharterError(f"`{name}` must be a short code (letters, digits, . _ -)", field=name,
                           fix="Describe the details in `inputs` and `explanation`, not here.")
    return value


class AutomatedDecisions:
    def __init__(self, session: Session, keyring: Keyring) -> None:
        self.session = session
        self.keyring = keyring
        self.audit = AuditLog(session)

    def record(self, controller_id: str, subject_id: str, *, kind: str, logic_version: str, outcome: str,
               inputs: Mapping[str, Any], explanation: Text, is_significant: bool = True,
               actor: str) -> AutomatedDecision:
        details = json.dumps({"inputs": dict(inputs), "explanation": {"zh": explanation.zh, "en": explanation.en,
                                                                       "zh_tw": explanation.zh_tw}},
                             ensure_ascii=False, default=str)
        row = AutomatedDecision(id=str(uuid.uuid4()), controller_id=controller_id, subject_id=subject_id,
                                kind=_code(kind, "kind"), logic_version=_code(logic_version, "logic_version"),
                                outcome=_code(outcome, "outcome"), is_significant=is_significant,
                                details_encrypted=self.keyring.encrypt(details, details_context(controller_id)),
                                made_at=utcnow(), reported_by=actor)
        self.session.add(row)
        self.session.flush()
        self.audit.record(controller_id, actor=actor, action="automated_decision.recorded",
                          target=f"automated_decision:{row.id}",
                          data={"subject_id": subject_id, "kind": kind, "logic_version": logic_version,
                                "outcome": outcome})
        return row

    def get(self, controller_id: str, decision_id: str, subject_id: str | None = None) -> AutomatedDecision:
        row = self.session.get(AutomatedDecision, decision_id)
        if row is None or row.controller_id != controller_id or (subject_id is not None
                                                                  and row.subject_id != subject_id):
            raise NotFound(f"no automated decision {decision_id!r} for this person", field="decision_id",
                           fix="Use the id the host received when it recorded the decision.")
        return row

    def view(self, row: AutomatedDecision) -> DecisionView:
        raw = json.loads(self.keyring.decrypt(row.details_encrypted, details_context(row.controller_id)))
        text = raw["explanation"]
        return DecisionView(row.id, row.kind, row.logic_version, row.outcome, row.is_significant, row.made_at,
                            raw["inputs"], Text(zh=text["zh"], en=text["en"], zh_tw=text.get("zh_tw")))

    def of_subject(self, controller_id: str, subject_id: str) -> list[DecisionView]:
        rows = self.session.execute(select(AutomatedDecision).where(
            AutomatedDecision.controller_id == controller_id, AutomatedDecision.subject_id == subject_id)
            .order_by(AutomatedDecision.made_at)).scalars()
        return [self.view(r) for r in rows]

    def explanation(self, controller_id: str, subject_id: str, decision_id: str) -> dict[str, Any]:
        """The template parameters of `decision_explanation` for one decision."""
        view = self.view(self.get(controller_id, decision_id, subject_id))
        return {"decision": view.kind, "outcome": view.outcome, "logic_version": view.logic_version,
                "made_on": view.made_at.date().isoformat(), "explanation": view.explanation,
                "inputs": [f"{k}: {v}" for k, v in sorted(view.inputs.items())]}

    # --- appeals ------------------------------------------------------------------------------------------

    def appeal(self, controller_id: str, request_id: str, decision_id: str, statement: str, *,
               actor: str) -> Appeal:
        if not statement.strip():
            raise CharterError("say why the decision should be reviewed", field="statement")
        existing = self.session.execute(select(Appeal).where(Appeal.request_id == request_id)).scalar_one_or_none()
        if existing is not None:
            raise Conflict("this request already has an appeal", field="request_id",
                           fix="Follow the open appeal; staff will answer it.")
        row = Appeal(controller_id=controller_id, request_id=request_id, decision_id=decision_id, status="open",
                     statement_encrypted=self.keyring.encrypt(statement.strip(), statement_context(controller_id)))
        self.session.add(row)
        self.session.flush()
        self.audit.record(controller_id, actor=actor, action="appeal.filed", target=f"appeal:{row.id}",
                          data={"request_id": request_id, "decision_id": decision_id})
        return row

    def appeals(self, controller_id: str, *, status: str | None = "open") -> list[Appeal]:
        q = select(Appeal).where(Appeal.controller_id == controller_id)
        if status is not None:
            q = q.where(Appeal.status == status)
        return list(self.session.execute(q.order_by(Appeal.created_at)).scalars())

    def statement(self, appeal: Appeal) -> str:
        return self.keyring.decrypt(appeal.statement_encrypted, statement_context(appeal.controller_id))

    def resolve(self, controller_id: str, appeal_id: int, *, outcome: str, note: str, actor: str) -> Appeal:
        """A person reviewed the decision: upheld or overturned, with a note the person reads."""
        row = self.session.get(Appeal, appeal_id, with_for_update=True)
        if row is None or row.controller_id != controller_id:
            raise NotFound(f"no appeal {appeal_id}", field="appeal_id")
        if outcome not in AppealOutcome.ALL:
            raise CharterError(f"unknown outcome {outcome!r}", field="outcome",
                               fix=f"Use one of: {', '.join(AppealOutcome.ALL)}.")
        if not note.strip():
            raise CharterError("write the reviewer's reasons; the person reads them", field="note")
        if row.status != "open":
            raise Conflict("the appeal is already decided", field="appeal_id")
        row.status, row.resolved_at, row.resolved_by = outcome, utcnow(), actor
        row.resolution_encrypted = self.keyring.encrypt(note.strip(), statement_context(controller_id))
        self.audit.record(controller_id, actor=actor, action="appeal.resolved", target=f"appeal:{row.id}",
                          data={"outcome": outcome})
        request = self.session.get(DataRequest, row.request_id)
        if request is not None:  # the person hears of it where they hear of their requests
            RequestService(self.session, self.keyring).tell(request, "appeal_resolved",
                                                            {"outcome": outcome, "note": note.strip()}, actor=actor)
        return row
