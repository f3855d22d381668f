"""The controller a privacy-centre page belongs to, with the policy whose contacts every page shows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Request

from charter.core.errors import NotFound
from charter.core.models import Controller
from charter.policy.models import PolicyVersionRecord
from charter.policy.schema import PolicyVersion
from charter.policy.services import PolicyStore, as_policy
from charter.web.center.nav import CENTER_NAV
from charter.web.deps import PageSession
from charter.web.ui import page_context, visible


@dataclass(frozen=True)
class Center:
    controller_id: str
    versions: list[PolicyVersionRecord]
    """Every published version, oldest first."""
    current: PolicyVersionRecord
    """In force today; before the first effective date, the earliest version."""
    policy: PolicyVersion
    """`current` as a policy: its controller block gives the name, address and contacts (LUB-CONTACT)."""

    @property
    def upcoming(self) -> list[PolicyVersionRecord]:
        return [v for v in self.versions if (v.effective, v.id) > (self.current.effective, self.current.id)]


def current_center(request: Request, db: PageSession,
                   controller: Annotated[str, Path(max_length=64)]) -> Center:
    """404 for an unknown controller, or one that has published no policy yet."""
    store = PolicyStore(db)
    if db.get(Controller, controller) is None:
        raise NotFound(f"no privacy centre {controller!r}")
    versions = store.list(controller)
    if not versions:
        raise NotFound(f"controller {controller!r} has published no policy")
    try:
        current = store.in_force(controller)
    except NotFound:
        current = versions[0]
    center = Center(controller, versions, current, as_policy(current))
    page_context(request).update(center=center, nav=visible(CENTER_NAV, None, controller=controller))
    return center


CenterPage = Annotated[Center, Depends(current_center)]
