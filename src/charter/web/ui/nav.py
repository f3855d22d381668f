"""Navigation entries. An entry with no `path` is a placeholder for a page still being built: it is hidden."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from charter.accounts.models import Role


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    """An English msgid (marked with `N_`), translated when shown."""
    path: str | None
    role: Role = Role.VIEWER
    """The least role that may open it; the route enforces the same role."""

    @property
    def is_built(self) -> bool:
        return self.path is not None


def visible(items: Iterable[NavItem], role: Role | None, **fields: str) -> list[NavItem]:
    """The built entries `role` may open (any role when None), with `{controller}`-style fields filled in."""
    return [NavItem(i.key, i.label, i.path.format(**fields), i.role) for i in items
            if i.path is not None and (role is None or role.allows(i.role))]


def current_path(items: Iterable[NavItem], path: str) -> str | None:
    """The entry `path` belongs to: the one it equals, else the longest one it lies under (a request's page under
    Requests); a top-level page (`/center/acme`) owns only itself, not every page below it."""
    paths = [i.path for i in items if i.path is not None]
    if path in paths:
        return path
    under = [p for p in paths if path.startswith(p + "/") and not any(q != p and q.startswith(p + "/") for q in paths)]
    return max(under, key=len, default=None)
