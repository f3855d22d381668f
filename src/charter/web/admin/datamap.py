"""The data map as published: systems → datasets (store, region, retention rule) → collections → fields, each with
the policy's categories it carries, the identity it is and how erasure treats it. Any published version can be
opened; the newest is the one requests run against. The map names no person: no staff read is recorded."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from charter.core.errors import NotFound
from charter.datamap.services import DataMapStore, as_datamap
from charter.policy.services import PolicyStore, as_policy
from charter.web.admin import labels
from charter.web.admin.session import Viewer
from charter.web.deps import PageSession
from charter.web.ui import render

router = APIRouter()


@router.get("/datamap")
def datamap(request: Request, db: PageSession, staff: Viewer,
            version: Annotated[str, Query(max_length=64)] = "") -> Response:
    store = DataMapStore(db)
    versions = store.list(staff.controller_id)
    record = store.get(staff.controller_id, version) if version else (versions[-1] if versions else None)
    try:
        policy = as_policy(PolicyStore(db).in_force(staff.controller_id))
    except NotFound:
        policy = None
    return render(request, "admin/datamap.html", {
        "record": record, "map": as_datamap(record) if record else None, "versions": list(reversed(versions)),
        "newest": versions[-1] if versions else None, "policy": policy, "strategies": labels.STRATEGIES,
        "identities": labels.IDENTITY_KINDS, "while_labels": labels.WHILE,
    })
