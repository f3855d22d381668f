"""Load a policy YAML file into a `PolicyVersion`, explaining every mistake with its line and a fix.

The YAML-with-lines machinery is `charter.core.yamldoc`; this module says how to talk about a policy.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from charter.core.yamldoc import (
    DocumentError,
    DocumentKind,
    Loaded,
    Problem,
    join_path,
    line_of,
    load_yaml_file,
    load_yaml_text,
    parent_path,
)
from charter.policy import schema
from charter.policy.schema import SCHEMA_ID, PolicyVersion

__all__ = [
    "LoadedPolicy",
    "PolicyFileError",
    "Problem",
    "join_path",
    "line_of",
    "load_policy_file",
    "load_policy_text",
    "parent_path",
]


class PolicyFileError(DocumentError):
    """The file is not a valid policy version; `problems` says every reason."""


@dataclass(frozen=True)
class LoadedPolicy:
    policy: PolicyVersion
    source: str
    lines: Mapping[str, int]
    raw: Mapping[str, Any]

    def line_of(self, path: str) -> int | None:
        """The line of `path`, or of its closest ancestor that is written in the file."""
        return line_of(self.lines, path)


POLICY = DocumentKind(
    model=PolicyVersion,
    schema_id=SCHEMA_ID,
    noun="policy version",
    docs="docs/policy-authoring.md",
    pattern_names={
        schema._SLUG: "id",
        schema._CATEGORY_ID: "category id",
        schema._PROMISE_ID: "promise id",
        schema._REGION: "region code",
    },
    pattern_fixes={
        schema._SLUG: "an id is 2 to 63 characters: a lowercase letter, then lowercase letters, digits, `_` or "
        "`-` (e.g. `order_delivery`)",
        schema._CATEGORY_ID: "a category id is lowercase words joined by dots, each word a letter followed by "
        "letters, digits or `_` (e.g. `contact.phone`)",
        schema._PROMISE_ID: "a promise id is `LUB-` or `LAN-` followed by capitals, digits or `-`, as listed in "
        "PROMISES.md (e.g. `LUB-DELETE`)",
        schema._REGION: "a region is an ISO 3166-1 alpha-2 code in capitals (e.g. `CN` for mainland China, `HK`)",
    },
    value_error_fix="write both the Chinese (`zh`) and the English (`en`) text",
    error=PolicyFileError,
)


def _policy(loaded: Loaded[PolicyVersion]) -> LoadedPolicy:
    return LoadedPolicy(policy=loaded.document, source=loaded.source, lines=loaded.lines, raw=loaded.raw)


def load_policy_file(path: str | os.PathLike[str]) -> LoadedPolicy:
    """Read and validate one policy file; raises `PolicyFileError` with every problem found."""
    return _policy(load_yaml_file(path, POLICY))


def load_policy_text(text: str, source: str) -> LoadedPolicy:
    """Parse and validate policy YAML; `source` names the file in problems."""
    return _policy(load_yaml_text(text, source, POLICY))
