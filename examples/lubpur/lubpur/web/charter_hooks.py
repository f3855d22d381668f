"""What Charter calls on Lubpur: the login webhook of an account cancellation (see `lubpur.closures`).

`POST /charter/account-closed` with `{"event": "account.cancelled", "subject_id": …, "request_id": …}`, signed
with the key Charter issued for the webhook (`Charter-Signature`, checked with `charter.sdk.verify_signature`,
five minutes' tolerance). A call that is unsigned, stale or signed with another key is refused (401) and changes
nothing. The answer is 200 once the login is closed, or when Lubpur has no account for that person (nothing to
close); Charter erases the account's data only after it.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session, sessionmaker

from charter.sdk import SIGNATURE_HEADER, verify_signature
from lubpur.closures import close_login
from lubpur.db import unit_of_work
from lubpur.settings import Settings

router = APIRouter(prefix="/charter")
MAX_BODY = 4096


def _error(status: int, code: str, message: str, fix: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "fix": fix}}, status_code=status)


@router.post("/account-closed")
async def account_closed(request: Request) -> JSONResponse:
    settings: Settings = request.app.state.settings
    body = await request.body()
    key = settings.charter_login_webhook_key
    if not key:
        return _error(401, "webhook_not_configured", "this Lubpur has no login webhook key",
                      "Set LUBPUR_CHARTER_LOGIN_WEBHOOK_KEY to the key Charter issued when the webhook was set.")
    if len(body) > MAX_BODY or not verify_signature(key.encode(), request.headers.get(SIGNATURE_HEADER), body):
        return _error(401, "bad_signature", "the call is not signed with the login webhook's key, or is stale",
                      "Sign with the key Charter issued for this webhook, within five minutes.")
    try:
        payload: Any = json.loads(body)
    except ValueError:
        payload = None
    if not isinstance(payload, dict) or payload.get("event") != "account.cancelled" or \
            not isinstance(payload.get("subject_id"), str) or not payload["subject_id"]:
        return _error(400, "bad_event", "expected {\"event\": \"account.cancelled\", \"subject_id\": …}",
                      "Send the account.cancelled event with the person's subject id.")
    sessions: sessionmaker[Session] = request.app.state.sessions
    subject_id = str(payload["subject_id"])

    def close() -> bool:
        with unit_of_work(sessions) as session:
            return close_login(session, subject_id)

    found = await run_in_threadpool(close)
    return JSONResponse({"closed": found})
