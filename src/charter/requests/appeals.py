"""Appeals of automated decisions as staff and the person see them (LUB-AUTOMATED, PIPL art. 24): the queue staff
work from, one appeal with the decision it contests (inputs, logic version, outcome, the host's explanation) and the
person's statement, and the answer the person reads in the privacy centre.

Reading only: an appeal is filed and decided by `charter.requests.automated.AutomatedDecisions`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from charter.core.crypto import Keyring
from charter.core.errors import CharterError, NotFound
from charter.requests.automated import AppealOutcome, AutomatedDecisions, DecisionView, statement_context
from charter.requests.models import Appeal, AutomatedDecision, DataRequest

__all__ = ["OPEN", "STATUSES", "AppealAnswer", "AppealBook", "AppealCase", "AppealRow"]

OPEN = "open"
STATUSES = (OPEN, *AppealOutcome.ALL)


@dataclass(frozen=True)
class AppealRow:
    """One line of the queue: nothing the person wrote, no input of the decision."""

    id: int
    status: str
    created_at: dt.datetime
    resolved_at: dt.datetime | None
    request_id: str
    reference: str
    decision_kind: str
    decision_outcome: str
    logic_version: str
    is_significant: bool


@dataclass(frozen=True)
class AppealCase:
    row: AppealRow
    subject_id: str | None
    decision: DecisionView
    statement: str
    resolution: str | None
    resolved_by: str | None


@dataclass(frozen=True)
class AppealAnswer:
    """What the person reads: the appeal's state and, once decided, the reviewer's reasons."""

    status: str
    created_at: dt.datetime
    resolved_at: dt.datetime | None
    note: str | None


def _row(appeal: Appeal, request: DataRequest, decision: AutomatedDecision) -> AppealRow:
    return AppealRow(appeal.id, appeal.status, appeal.created_at, appeal.resolved_at, request.id, request.reference,
                     decision.kind, decision.outcome, decision.logic_version, decision.is_significant)


class AppealBook:
    def __init__(self, session: Session, keyring: Keyring) -> None:
        self.session = session
        self.keyring = keyring

    @staticmethod
    def _joined(controller_id: str) -> Select[Appeal, DataRequest, AutomatedDecision]:
        return (select(Appeal, DataRequest, AutomatedDecision)
                .join(DataRequest, DataRequest.id == Appeal.request_id)
                .join(AutomatedDecision, AutomatedDecision.id == Appeal.decision_id)
                .where(Appeal.controller_id == controller_id))

    def rows(self, controller_id: str, *, status: str | None = OPEN) -> list[AppealRow]:
        """The queue, oldest first (open appeals wait longest at the top); `status=None` lists every appeal."""
        if status is not None and status not in STATUSES:
            raise CharterError(f"unknown appeal state {status!r}", field="status",
                               fix=f"Use one of: {', '.join(STATUSES)}.")
        query = self._joined(controller_id)
        if status is not None:
            query = query.where(Appeal.status == status)
        found = self.session.execute(query.order_by(Appeal.created_at, Appeal.id)).all()
        return [_row(a, r, d) for a, r, d in found]

    def case(self, controller_id: str, appeal_id: int) -> AppealCase:
        found = self.session.execute(self._joined(controller_id).where(Appeal.id == appeal_id)).first()
        if found is None:
            raise NotFound(f"no appeal {appeal_id}", field="appeal_id")
        appeal, request, decision = found
        decisions = AutomatedDecisions(self.session, self.keyring)
        resolution = (self.keyring.decrypt(appeal.resolution_encrypted, statement_context(controller_id))
                      if appeal.resolution_encrypted else None)
        return AppealCase(_row(appeal, request, decision), request.subject_id, decisions.view(decision),
                          decisions.statement(appeal), resolution, appeal.resolved_by)

    def of_subject(self, controller_id: str, subject_id: str) -> dict[str, AppealAnswer]:
        """The person's appeals by the id of the explanation request each was filed on."""
        found = self.session.execute(
            select(Appeal).join(DataRequest, DataRequest.id == Appeal.request_id)
            .where(Appeal.controller_id == controller_id, DataRequest.subject_id == subject_id)).scalars()
        return {a.request_id: AppealAnswer(
            a.status, a.created_at, a.resolved_at,
            self.keyring.decrypt(a.resolution_encrypted, statement_context(controller_id))
            if a.resolution_encrypted else None) for a in found}
