"""The page routes of an area, from the modules it mounts (FastAPI keeps included routers lazily)."""

from __future__ import annotations

from types import ModuleType

from fastapi.routing import APIRoute


def page_routes(area: ModuleType) -> set[tuple[str, str]]:
    """(method, path) of every route the area's page modules declare."""
    found: set[tuple[str, str]] = set()
    for module in area.PAGES:
        for route in module.router.routes:
            assert isinstance(route, APIRoute)
            found |= {(method, area.PREFIX + route.path) for method in route.methods}
    return found
