"""`HttpDecisionSource`: what an embedded decider knows, fetched from Charter's API."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Protocol

from charter.consent.terms import PolicyTerms, policy_terms
from charter.decisions.core import CompiledPolicy, ConsentView, SubjectState
from charter.decisions.interfaces import Changes, Cursor, LogEntry
from charter.policy.schema import PolicyVersion

__all__ = ["HttpDecisionSource"]


class Requester(Protocol):
    """What the source needs of `charter.sdk.Client`: one authenticated call."""

    def request(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None) -> Any: ...


class HttpDecisionSource:
    """Feeds a `Decider` in a host from Charter's API; the controller is the one of the client's key."""

    def __init__(self, client: Requester) -> None:
        self.client = client

    def terms(self, controller_id: str, today: dt.date) -> PolicyTerms:
        versions = self.client.request("GET", "/v1/decisions/policy")
        return policy_terms([(PolicyVersion.model_validate(v["document"]), v["content_hash"]) for v in versions],
                            today)

    def subject_state(self, controller_id: str, subject_id: str, compiled: CompiledPolicy) -> SubjectState:
        data = self.client.request("GET", f"/v1/subjects/{subject_id}/state")
        consents = {p: ConsentView(c["status"], c["kind"], compiled.terms.ordinal_of(c["policy_hash"]),
                                   c["valid_until"], c["record_id"], c["by_guardian"])
                    for p, c in data["consents"].items()}
        until = dt.date.fromisoformat(data["minor_until"]) if data["minor_until"] else None
        return SubjectState(data["subject_id"], consents, data["is_restricted"], data["is_suspended"], until,
                            data["has_guardian"])

    def cursor(self, controller_id: str) -> Cursor:
        return Cursor(**self.client.request("GET", "/v1/decisions/cursor"))

    def changes(self, controller_id: str, since: Cursor) -> Changes:
        data = self.client.request("GET", "/v1/decisions/changes", params=since._asdict())
        return Changes(Cursor(**data["cursor"]), frozenset(data["subjects"]), data["policy_changed"])

    def write_log(self, entries: Sequence[LogEntry]) -> None:
        self.client.request("POST", "/v1/decisions/log", json=[
            {"at": e.at, "subject_id": e.subject_id, "question": e.question._asdict(), "allowed": e.decision.allowed,
             "basis": e.decision.basis or "", "exception": e.decision.exception, "purpose": e.decision.purpose,
             "consent_record_id": e.consent_record_id, "policy_hash": e.policy_hash} for e in entries])
