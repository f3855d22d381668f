"""Decisions over HTTP: a thin shell over the in-process decider, plus what an embedded decider in a host needs
(the policy versions, a subject's state, the change feed, and a place to send its decision log).

`POST /v1/decisions` is the hot path: it reads the body itself and answers from the decider's memory, so a
decision costs no database round trip once the subject is known. Its body is one question or a list of them:

    {"subject_id": "…", "purpose": "marketing_email", "channel": "email"}
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from charter.accounts.services import ApiPrincipal
from charter.consent.schemas import SUBJECT_ID
from charter.core.errors import CharterError
from charter.decisions.core import Decision, Question, QuestionKind
from charter.decisions.decider import Decider
from charter.decisions.interfaces import Cursor, LogEntry
from charter.decisions.services import write_decision_log
from charter.policy.services import PolicyStore
from charter.web.deps import DbSession, DeciderDep, SecretKey, cached_secret_key, collecting

router = APIRouter(prefix="/v1/decisions", tags=["decisions"])

MAX_BATCH = 1000
_SUBJECT = re.compile(SUBJECT_ID)
_FIELDS = ("subject_id", "purpose", "kind", "category", "recipient", "region", "channel", "exception")
_QUESTION_SCHEMA = {
    "type": "object", "required": ["subject_id", "purpose"], "additionalProperties": False,
    "properties": {
        "subject_id": {"type": "string", "format": "uuid"},
        "purpose": {"type": "string", "description": "a purpose id of the policy in force"},
        "kind": {"type": "string", "enum": [k.value for k in QuestionKind], "default": "use"},
        "category": {"type": "string"}, "recipient": {"type": "string"},
        "region": {"type": "string", "description": "ISO 3166-1 alpha-2"},
        "channel": {"type": "string", "description": "`email` or `export`: some obligations depend on it"},
        "exception": {"type": "string", "description": "one of the policy's legal_exceptions relied on"},
    },
}


def _question(item: object, at: str) -> tuple[str, Question]:
    if not isinstance(item, dict):
        raise CharterError("a question is a JSON object", field=at.rstrip(".") or "body",
                           fix='Send {"subject_id": "…", "purpose": "…"}.')
    for name in item:
        if name not in _FIELDS:
            raise CharterError(f"unknown field {name!r}", field=f"{at}{name}", fix=f"Use: {', '.join(_FIELDS)}.")
    for name in ("subject_id", "purpose"):
        if name not in item:
            raise CharterError(f"`{name}` is missing", field=f"{at}{name}")
    for name, value in item.items():
        if not isinstance(value, str) and not (value is None and name not in ("subject_id", "purpose")):
            raise CharterError(f"`{name}` must be a string", field=f"{at}{name}")
    subject_id = item["subject_id"]
    if not _SUBJECT.match(subject_id):
        raise CharterError("`subject_id` is not a subject id", field=f"{at}subject_id",
                           fix="Use the id POST /v1/subjects returned.")
    return subject_id, Question(item["purpose"], item.get("kind") or "use", item.get("category"),
                                item.get("recipient"), item.get("region"), item.get("channel"),
                                item.get("exception"))


def decision_json(decision: Decision) -> dict[str, Any]:
    return {"allowed": decision.allowed, "basis": decision.basis, "exception": decision.exception,
            "reasons": list(decision.reasons), "obligations": list(decision.obligations),
            "ask_consent": decision.ask_consent, "purpose": decision.purpose}


async def _answer(decider: Decider, controller_id: str, subject_id: str, question: Question, at: str) -> Decision:
    try:
        hit = decider.cached(controller_id, subject_id, question)
        if hit is not None:
            return hit
        return await run_in_threadpool(decider.decide, controller_id, subject_id, question)
    except CharterError as exc:
        exc.field = f"{at}{exc.field}" if exc.field else exc.field
        raise


@router.post("", openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "oneOf": [_QUESTION_SCHEMA, {"type": "array", "items": _QUESTION_SCHEMA, "maxItems": MAX_BATCH}]}}}}})
async def decide(request: Request, key: Annotated[ApiPrincipal, Depends(cached_secret_key)]) -> Response:
    """Answer one question (an object) or many (a list, answered in order); refused (409) once the controller has
    ceased operations."""
    collecting(key)
    try:
        body = json.loads(await request.body())
    except ValueError as exc:
        raise CharterError("the body is not JSON", field="body", fix="Send a question as a JSON object.") from exc
    decider: Decider = request.app.state.decider
    if isinstance(body, list):
        if len(body) > MAX_BATCH:
            raise CharterError(f"more than {MAX_BATCH} questions", field="body", fix="Split the batch.")
        asks = [_question(item, f"[{n}].") for n, item in enumerate(body)]
        answers = [decision_json(await _answer(decider, key.controller_id, s, q, f"[{n}]."))
                   for n, (s, q) in enumerate(asks)]
        return Response(json.dumps(answers, ensure_ascii=False), media_type="application/json")
    subject_id, question = _question(body, "")
    decision = await _answer(decider, key.controller_id, subject_id, question, "")
    return Response(_encoded(decision), media_type="application/json")


_ENCODED: dict[Decision, bytes] = {}


def _encoded(decision: Decision) -> bytes:
    found = _ENCODED.get(decision)
    if found is None:
        if len(_ENCODED) > 10_000:
            _ENCODED.clear()
        found = _ENCODED[decision] = json.dumps(decision_json(decision), ensure_ascii=False).encode()
    return found


# --- for a decider embedded in a host ----------------------------------------------------------------------


@router.get("/policy")
def policy_versions(session: DbSession, key: SecretKey) -> list[dict[str, Any]]:
    """Every published version with its document and content hash: what an embedded decider compiles."""
    return [{"version": r.version, "content_hash": r.content_hash, "effective": r.effective.isoformat(),
             "document": r.document} for r in PolicyStore(session).list(key.controller_id)]


@router.get("/cursor")
def cursor(decider: DeciderDep, key: SecretKey) -> dict[str, int]:
    return decider.source.cursor(key.controller_id)._asdict()


@router.get("/changes")
def changes(decider: DeciderDep, key: SecretKey, consent_seq: Annotated[int, Query(ge=0)],
            subject_change: Annotated[int, Query(ge=0)], policies: Annotated[int, Query(ge=0)]) -> dict[str, Any]:
    """Subjects whose state changed since the cursor, and whether a policy version was published."""
    found = decider.source.changes(key.controller_id, Cursor(consent_seq, subject_change, policies))
    return {"cursor": found.cursor._asdict(), "subjects": sorted(found.subjects),
            "policy_changed": found.policy_changed}


class LoggedDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: float
    subject_id: str = Field(pattern=SUBJECT_ID)
    question: dict[str, str | None]
    allowed: bool
    basis: str = Field(max_length=16)
    exception: str | None = Field(default=None, max_length=64)
    purpose: str = Field(max_length=64)
    consent_record_id: str | None = Field(default=None, max_length=36)
    policy_hash: str = Field(max_length=80)


@router.post("/log", status_code=202)
def log(entries: list[LoggedDecision], session: DbSession, key: SecretKey) -> dict[str, int]:
    """Decisions an embedded decider made that allowed non-essential processing."""
    rows = []
    for n, e in enumerate(entries):
        purpose, kind = e.question.get("purpose"), e.question.get("kind") or "use"
        if not purpose:
            raise CharterError("the question names no purpose", field=f"[{n}].question.purpose")
        q = e.question
        question = Question(purpose, kind, q.get("category"), q.get("recipient"), q.get("region"), q.get("channel"),
                            q.get("exception"))
        decision = Decision(e.allowed, e.basis, e.exception, (), (), False, e.purpose, True)
        rows.append(LogEntry(e.at, key.controller_id, e.subject_id, question, decision, e.consent_record_id,
                             e.policy_hash))
    return {"written": write_decision_log(session, rows)}
