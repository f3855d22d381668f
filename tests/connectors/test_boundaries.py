"""Connectors import only `charter.core` (and each other), and export what they say they do."""

from __future__ import annotations

import ast
from pathlib import Path

from charter import connectors

PACKAGE = Path(connectors.__file__).parent


def _charter_imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("charter"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("charter"))
    return found


def test_connectors_depend_on_core_only() -> None:
    for path in PACKAGE.glob("*.py"):
        for module in _charter_imports(path):
            assert module.startswith(("charter.core", "charter.connectors")), (path.name, module)


def test_the_package_exports_exactly_its_public_names() -> None:
    assert sorted(connectors.__all__) == connectors.__all__
    for name in connectors.__all__:
        assert getattr(connectors, name) is not None


def test_the_data_map_package_exports_its_public_names() -> None:
    import charter.datamap as datamap  # noqa: PLC0415, PLR0402 - the package under test

    assert sorted(datamap.__all__) == datamap.__all__
    assert all(getattr(datamap, name) is not None for name in datamap.__all__)
