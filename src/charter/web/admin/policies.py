"""Policies: versions, publishing by upload (privacy officer and admin), the text, diffs, promise coverage."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from charter.accounts.models import Role
from charter.core.errors import CharterError, Conflict, NotFound
from charter.policy.coverage import coverage
from charter.policy.diff import diff_policies
from charter.policy.models import PolicyVersionRecord
from charter.policy.render import clause_anchors
from charter.policy.services import PolicyInvalid, PolicyStore, as_policy
from charter.web.admin import labels
from charter.web.admin.session import PrivacyOfficer, Staff, Viewer
from charter.web.deps import PageSession
from charter.web.ui import N_, render

router = APIRouter()

MAX_UPLOAD = 2 * 1024 * 1024

NOT_UTF8 = N_("The file is not UTF-8 text. Save the policy as UTF-8 and upload it again.")
TOO_LARGE = N_("The file is larger than 2 MB.")
NO_FILE = N_("Choose a policy file to upload.")
INVALID = N_("The policy has problems; nothing was published. Correct each one and upload it again.")
VERSION_TAKEN = N_("That version label is already published with different content. Published versions never "
                   "change: give the changed policy a new version label.")
OTHER_CONTROLLER = N_("This policy names another controller. Publish it for the controller it names, or "
                      "correct controller.id.")
REFUSED = N_("The policy was not published.")


def _in_force(store: PolicyStore, controller_id: str) -> PolicyVersionRecord | None:
    try:
        return store.in_force(controller_id)
    except NotFound:
        return None


def _list_page(request: Request, store: PolicyStore, staff: Staff, *, error: str | None = None,
               problems: list[object] | None = None, detail: str = "", status: int = 200) -> Response:
    versions = store.list(staff.controller_id)
    return render(request, "admin/policies.html", {
        "versions": list(reversed(versions)), "in_force": _in_force(store, staff.controller_id),
        "can_publish": staff.can(Role.PRIVACY_OFFICER), "error": error, "problems": problems or [],
        "detail": detail,
    }, status=status)


@router.get("/policies")
def policies(request: Request, db: PageSession, staff: Viewer) -> Response:
    return _list_page(request, PolicyStore(db), staff)


async def _uploaded_text(policy: UploadFile | None) -> tuple[str, str | None]:
    """The uploaded file as text, or an error message saying why it cannot be read."""
    raw = await policy.read(MAX_UPLOAD + 1) if policy is not None else b""
    if not raw:
        return "", NO_FILE
    if len(raw) > MAX_UPLOAD:
        return "", TOO_LARGE
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError:
        return "", NOT_UTF8


@router.post("/policies")
async def publish(request: Request, db: PageSession, staff: PrivacyOfficer,
                  policy: Annotated[UploadFile | None, Form()] = None) -> Response:
    store = PolicyStore(db)
    text, unreadable = await _uploaded_text(policy)
    if unreadable:
        return _list_page(request, store, staff, error=unreadable, status=400)
    source = (policy.filename if policy is not None else None) or "upload"
    try:
        published = store.publish(staff.controller_id, text, source=source, actor=staff.actor)
    except PolicyInvalid as exc:
        return _list_page(request, store, staff, error=INVALID, problems=list(exc.problems), status=400)
    except Conflict:
        return _list_page(request, store, staff, error=VERSION_TAKEN, status=409)
    except CharterError as exc:
        error = OTHER_CONTROLLER if exc.field == "controller.id" else REFUSED
        return _list_page(request, store, staff, error=error, detail=str(exc), status=400)
    flag = "1" if published.created else "0"
    return RedirectResponse(f"/admin/policies/v/{quote(published.record.version, safe='')}?published={flag}",
                            status_code=303)


@router.get("/policies/diff")
def diff(request: Request, db: PageSession, staff: Viewer,
         old: Annotated[str, Query(alias="from")], new: Annotated[str, Query(alias="to")]) -> Response:
    store = PolicyStore(db)
    before, after = store.get(staff.controller_id, old), store.get(staff.controller_id, new)
    result = diff_policies(as_policy(before), as_policy(after))
    return render(request, "admin/policy_diff.html", {
        "before": before, "after": after, "diff": result, "versions": store.list(staff.controller_id),
        "materiality": labels.MATERIALITY, "kinds": labels.CHANGE_KINDS,
    })


@router.get("/policies/v/{version}")
def version(request: Request, db: PageSession, staff: Viewer, version: str, published: str = "") -> Response:
    store = PolicyStore(db)
    record = store.get(staff.controller_id, version)
    versions = store.list(staff.controller_id)
    earlier = [v for v in versions if v.id != record.id and (v.effective, v.id) < (record.effective, record.id)]
    policy = as_policy(record)
    return render(request, "admin/policy.html", {
        "record": record, "policy": policy, "anchors": clause_anchors(policy), "published": published,
        "previous": earlier[-1] if earlier else None, "in_force": _in_force(store, staff.controller_id),
    })


@router.get("/policies/v/{version}/promises")
def promises(request: Request, db: PageSession, staff: Viewer, version: str) -> Response:
    record = PolicyStore(db).get(staff.controller_id, version)
    rows = coverage(as_policy(record))
    counts = {status: sum(1 for r in rows if r.status == status) for status in labels.COVERAGE}
    return render(request, "admin/promises.html", {"record": record, "rows": rows, "counts": counts,
                                                   "statuses": labels.COVERAGE})
