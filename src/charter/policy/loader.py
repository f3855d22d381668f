"""Load a policy YAML file into a `PolicyVersion`, explaining every mistake with its line and a fix.

PyYAML silently keeps the last of two equal keys and its errors name no field; pydantic names fields but not
lines. The loader composes the YAML node tree once, so every field path (`purposes[3].categories[1]`) maps to
the line it was written on, and every problem reads `file:line: path: message. Fix: …`.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from charter.core.i18n import Text
from charter.policy import schema
from charter.policy.schema import SCHEMA_ID, PolicyVersion

__all__ = [
    "LoadedPolicy",
    "PolicyFileError",
    "Problem",
    "load_policy_file",
    "load_policy_text",
]

Loc = tuple[int | str, ...]


@dataclass(frozen=True)
class Problem:
    """One mistake in a policy file, where it is and how to mend it."""

    file: str
    line: int | None
    path: str
    message: str
    fix: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        path = self.path or "(document)"
        return f"{where}: {path}: {self.message.rstrip('.')}. Fix: {self.fix}"


class PolicyFileError(Exception):
    """The file is not a valid policy version; `problems` says every reason."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class LoadedPolicy:
    policy: PolicyVersion
    source: str
    lines: Mapping[str, int]
    raw: Mapping[str, Any]

    def line_of(self, path: str) -> int | None:
        """The line of `path`, or of its closest ancestor that is written in the file."""
        return line_of(self.lines, path)


def join_path(parent: str, part: int | str) -> str:
    if isinstance(part, int):
        return f"{parent}[{part}]"
    return f"{parent}.{part}" if parent else part


def parent_path(path: str) -> str:
    cut = max(path.rfind("."), path.rfind("["))
    return path[:cut] if cut > 0 else ""


def line_of(lines: Mapping[str, int], path: str) -> int | None:
    while True:
        if path in lines:
            return lines[path]
        if not path:
            return None
        path = parent_path(path)


def load_policy_file(path: str | os.PathLike[str]) -> LoadedPolicy:
    """Read and validate one policy file; raises `PolicyFileError` with every problem found."""
    source = os.fspath(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyFileError(
            [Problem(source, None, "", "no such file", "check the path, relative to the current folder")]
        ) from None
    except UnicodeDecodeError as err:
        raise PolicyFileError(
            [Problem(source, None, "", f"the file is not UTF-8 ({err.reason})", "save the file as UTF-8")]
        ) from None
    except OSError as err:
        problem = Problem(source, None, "", err.strerror or str(err), "check the path and its permissions")
        raise PolicyFileError([problem]) from None
    return load_policy_text(text, source)


def load_policy_text(text: str, source: str) -> LoadedPolicy:
    """Parse and validate policy YAML; `source` names the file in problems."""
    node = _compose(text, source)
    walk = _NodeWalk(source)
    walk.walk(node, "")
    if walk.is_recursive:
        raise PolicyFileError(walk.problems)
    raw = _construct(node, text, source)
    if not isinstance(raw, dict):
        raise PolicyFileError([*walk.problems, _not_a_mapping(raw, source, node)])
    try:
        policy = PolicyVersion.model_validate(raw)
    except ValidationError as err:
        problems = [_validation_problem(e, source, walk.lines) for e in err.errors(include_url=False)]
        raise PolicyFileError(_by_line([*walk.problems, *problems])) from None
    if walk.problems:
        raise PolicyFileError(walk.problems)
    return LoadedPolicy(policy=policy, source=source, lines=walk.lines, raw=raw)


# --- YAML --------------------------------------------------------------------------------------------------


def _compose(text: str, source: str) -> yaml.Node:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as err:
        raise PolicyFileError([_yaml_problem(err, source)]) from None
    except yaml.YAMLError as err:
        raise PolicyFileError([Problem(source, None, "", str(err), _YAML_FIX)]) from None
    if node is None:
        raise PolicyFileError(
            [Problem(source, 1, "", "the file is empty", f"start the file with `schema: {SCHEMA_ID}`")]
        )
    return node


def _construct(node: yaml.Node, text: str, source: str) -> object:
    loader = yaml.SafeLoader(text)
    try:
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as err:
        raise PolicyFileError([_yaml_problem(err, source)]) from None
    finally:
        loader.dispose()


_YAML_FIX = (
    "check the indentation and quoting on this line and the one before it; quote a value that contains `: `, "
    "` #` or a comma inside `{…}`, or that starts with one of `{ [ * & ! % @` or a backtick"
)


def _yaml_problem(err: yaml.MarkedYAMLError, source: str) -> Problem:
    mark = err.problem_mark or err.context_mark
    line = mark.line + 1 if mark is not None else None
    message = ": ".join(s for s in (err.context, err.problem) if s) or "the YAML cannot be read"
    fix = _YAML_FIX
    if "'\\t'" in message:
        fix = "indent with spaces, never tabs"
    elif "expected a single document" in message:
        fix = "keep one policy version per file: remove the second `---` document"
    return Problem(source, line, "", message, fix)


class _NodeWalk:
    """Maps every field path to its line and collects what PyYAML lets through: duplicate and recursive keys."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.lines: dict[str, int] = {}
        self.problems: list[Problem] = []
        self.is_recursive = False
        """A recursive alias cannot be constructed at all, so nothing after the walk may run."""

    def walk(self, node: yaml.Node, path: str, ancestors: frozenset[int] = frozenset()) -> None:
        self.lines.setdefault(path, node.start_mark.line + 1)
        if id(node) in ancestors:
            self.problems.append(_recursive_alias(self.source, path, node))
            self.is_recursive = True
            return
        inside = ancestors | {id(node)}
        if isinstance(node, yaml.MappingNode):
            self._mapping(node, path, inside)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self.walk(item, join_path(path, index), inside)

    def _mapping(self, node: yaml.MappingNode, path: str, ancestors: frozenset[int]) -> None:
        first_seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = str(key_node.value)
            key_line = key_node.start_mark.line + 1
            child = join_path(path, key)
            if key in first_seen:
                self.problems.append(_duplicate_key(self.source, child, key, key_line, first_seen[key]))
                continue
            first_seen[key] = key_line
            self.lines[child] = key_line
            self.walk(value_node, child, ancestors)


def _recursive_alias(source: str, path: str, node: yaml.Node) -> Problem:
    return Problem(
        source,
        node.start_mark.line + 1,
        path,
        "this alias refers to a node that contains it",
        "replace the alias (`*name`) with the value itself",
    )


def _duplicate_key(source: str, path: str, key: str, line: int, first: int) -> Problem:
    return Problem(
        source,
        line,
        path,
        f"`{key}` appears twice in the same mapping (first on line {first}); YAML would silently keep only "
        "the last one",
        f"keep one `{key}:` and delete or rename the other",
    )


def _by_line(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: p.line or 0)


def _not_a_mapping(raw: object, source: str, node: yaml.Node) -> Problem:
    kind = "a list" if isinstance(raw, list) else f"a single value ({raw!r})"
    return Problem(
        source,
        node.start_mark.line + 1,
        "",
        f"the document is {kind}, not a mapping of fields",
        f"write the policy as `field: value` lines, starting with `schema: {SCHEMA_ID}`",
    )


# --- validation errors -------------------------------------------------------------------------------------


def loc_path(loc: Loc) -> str:
    path = ""
    for part in loc:
        path = join_path(path, part)
    return path


def _validation_problem(error: ErrorDetails, source: str, lines: Mapping[str, int]) -> Problem:
    loc = tuple(error["loc"])
    path = loc_path(loc)
    message, fix = _explain(error, loc)
    return Problem(source, line_of(lines, path), path, message, fix)


def _explain(error: ErrorDetails, loc: Loc) -> tuple[str, str]:
    """A message and a fix sentence tailored to the kind of error."""
    handler = _HANDLERS.get(error["type"])
    if handler is not None:
        return handler(error, loc)
    return error["msg"], _shape_fix(error, _name(loc))


def _name(loc: Loc) -> str:
    return str(loc[-1]) if loc else "document"


def _missing(error: ErrorDetails, loc: Loc) -> tuple[str, str]:
    parent = loc_path(loc[:-1])
    where = f"under `{parent}`" if parent else "at the top level of the file"
    what = _TEXT_LANGUAGES.get(_name(loc), f"`{_name(loc)}`")
    return f"{what} is missing", f"add `{_name(loc)}:` {where}"


_YAML_KINDS: tuple[tuple[type, str], ...] = (
    (bool, "a boolean"),
    (int, "a number"),
    (float, "a number"),
    (dt.date, "a date"),
    (list, "a list"),
    (dict, "a mapping"),
)

_TEXT_LANGUAGES = {"zh": "the Chinese text (`zh`)", "en": "the English text (`en`)"}


def _not_text(error: ErrorDetails, loc: Loc) -> tuple[str, str]:
    value = error["input"]
    if value is None:
        return f"`{_name(loc)}` is empty", f"write a value after `{_name(loc)}:`"
    kind = next((name for cls, name in _YAML_KINDS if isinstance(value, cls)), type(value).__name__)
    message = f"`{_name(loc)}` must be text, but YAML read {value!r} as {kind}"
    return message, f"put the value of `{_name(loc)}` in quotes so YAML reads it as text"


def _unknown_field(error: ErrorDetails, loc: Loc) -> tuple[str, str]:
    return f"unknown field `{_name(loc)}`", _unknown_field_fix(_name(loc), loc[:-1])


def _enum(error: ErrorDetails, loc: Loc) -> tuple[str, str]:
    expected = str(error.get("ctx", {}).get("expected", ""))
    allowed = [a.strip().strip("'") for a in expected.replace(" or ", ", ").split(",") if a.strip()]
    fix = "use one of " + ", ".join(allowed)
    guess = difflib.get_close_matches(str(error["input"]), allowed, n=1)
    if guess:
        fix = f"did you mean `{guess[0]}`? {fix}"
    return f"{error['input']!r} is not an allowed value for `{_name(loc)}`", fix


def _literal(error: ErrorDetails, loc: Loc) -> tuple[str, str]:
    expected = error.get("ctx", {}).get("expected", "")
    return f"{error['input']!r} is not allowed here", f"write `{_name(loc)}: {str(expected).strip(chr(39))}`"


def _pattern_mismatch(error: ErrorDetails, loc: Loc) -> tuple[str, str]:
    pattern = str(error.get("ctx", {}).get("pattern", ""))
    what = _PATTERN_NAMES.get(pattern, "value")
    fix = _PATTERN_FIXES.get(pattern, f"write a value that matches the pattern {pattern}")
    return f"{error['input']!r} is not a valid {what}", fix


def _value_error(error: ErrorDetails, loc: Loc) -> tuple[str, str]:
    return _value_error_message(error), "write both the Chinese (`zh`) and the English (`en`) text"


_HANDLERS: dict[str, Callable[[ErrorDetails, Loc], tuple[str, str]]] = {
    "missing": _missing,
    "extra_forbidden": _unknown_field,
    "unexpected_keyword_argument": _unknown_field,
    "enum": _enum,
    "literal_error": _literal,
    "string_pattern_mismatch": _pattern_mismatch,
    "value_error": _value_error,
    "string_type": _not_text,
}

_MAPPING_TYPES = ("model_type", "dataclass_type", "dict_type")

_SHAPE_FIXES = {
    "list_type": "write `{name}` as a list: `[a, b]`, or one `- item` per line",
    "too_short": "give `{name}` at least one entry",
    "string_too_short": "write a non-empty value for `{name}`",
    "string_too_long": "shorten `{name}`",
    "bool_type": "write `{name}: true` or `{name}: false`",
    "bool_parsing": "write `{name}: true` or `{name}: false`",
    "int_type": "write `{name}` as a whole number",
    "int_parsing": "write `{name}` as a whole number",
    "int_from_float": "write `{name}` as a whole number",
    "greater_than_equal": "change `{name}` to a number in the allowed range",
    "less_than_equal": "change `{name}` to a number in the allowed range",
}


def _shape_fix(error: ErrorDetails, name: str) -> str:
    kind = error["type"]
    if kind in _MAPPING_TYPES:
        fields = ", ".join(f"`{f}`" for f in _fields_of_class(error)) or "its fields"
        return f"write `{name}` as a mapping of {fields}"
    if kind.startswith("date"):
        return f"write `{name}` as a date, YYYY-MM-DD (e.g. 2025-01-31)"
    return _SHAPE_FIXES.get(kind, "see docs/policy-authoring.md for what this field takes").format(name=name)


def _value_error_message(error: ErrorDetails) -> str:
    reason = error.get("ctx", {}).get("error")
    return str(reason) if reason is not None else error["msg"]


_PATTERN_NAMES = {
    schema._SLUG: "id",
    schema._CATEGORY_ID: "category id",
    schema._PROMISE_ID: "promise id",
    schema._REGION: "region code",
}

_PATTERN_FIXES = {
    schema._SLUG: "an id is 2 to 63 characters: a lowercase letter, then lowercase letters, digits, `_` or "
    "`-` (e.g. `order_delivery`)",
    schema._CATEGORY_ID: "a category id is lowercase words joined by dots, each word a letter followed by "
    "letters, digits or `_` (e.g. `contact.phone`)",
    schema._PROMISE_ID: "a promise id is `LUB-` or `LAN-` followed by capitals, digits or `-`, as listed in "
    "PROMISES.md (e.g. `LUB-DELETE`)",
    schema._REGION: "a region is an ISO 3166-1 alpha-2 code in capitals (e.g. `CN` for mainland China, `HK`)",
}


# --- which fields a location allows ------------------------------------------------------------------------


def _unknown_field_fix(name: str, parent: Loc) -> str:
    allowed = _allowed_fields(parent)
    if not allowed:
        return "remove it or check the spelling"
    fix = "remove it or check the spelling; allowed fields are " + ", ".join(allowed)
    guess = difflib.get_close_matches(name, allowed, n=1)
    return f"did you mean `{guess[0]}`? {fix}" if guess else fix


def _allowed_fields(loc: Loc) -> list[str]:
    cls: object = PolicyVersion
    for part in loc:
        if isinstance(part, int):
            continue
        cls = _field_types(cls).get(part)
        if cls is None:
            return []
    return list(_field_types(cls))


def _fields_of_class(error: ErrorDetails) -> list[str]:
    class_name = error.get("ctx", {}).get("class_name")
    cls = getattr(schema, str(class_name), None)
    return list(_field_types(cls)) if cls is not None else []


def _field_types(cls: object) -> dict[str, object]:
    """Field name (as written in YAML) → the model or dataclass it holds, if any."""
    if isinstance(cls, type) and issubclass(cls, BaseModel):
        return {(info.alias or field): _inner_class(info.annotation) for field, info in cls.model_fields.items()}
    if cls is Text:
        return {"zh": None, "en": None, "zh_tw": None}
    return {}


def _inner_class(annotation: object) -> object:
    """The model or `Text` class inside `list[X]`, `X | None` and `Annotated[X, …]`, else None."""
    if isinstance(annotation, type) and (issubclass(annotation, BaseModel) or annotation is Text):
        return annotation
    for arg in _type_args(annotation):
        found = _inner_class(arg)
        if found is not None:
            return found
    return None


def _type_args(annotation: object) -> tuple[object, ...]:
    args = getattr(annotation, "__args__", ())
    return tuple(args) if isinstance(args, tuple) else ()
