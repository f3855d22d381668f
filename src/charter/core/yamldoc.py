"""YAML documents validated by a pydantic model, with every mistake explained by its line and a fix.

PyYAML silently keeps the last of two equal keys and its errors name no field; pydantic names fields but not
lines. `load_yaml_text` composes the YAML node tree once, so every field path (`purposes[3].categories[1]`) maps
to the line it was written on, and every problem reads `file:line: path: message. Fix: …`.

A document kind (the policy, the data map) describes itself with a `DocumentKind`; the kind's loader is then a
few lines. A validator that knows how to mend what it rejects raises `Mistake(message, fix)`.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from charter.core.i18n import Text

__all__ = [
    "DocumentError",
    "DocumentKind",
    "Loaded",
    "Mistake",
    "Problem",
    "join_path",
    "line_of",
    "load_yaml_file",
    "load_yaml_text",
    "parent_path",
]

Loc = tuple[int | str, ...]
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Problem:
    """One mistake in a document, where it is and how to mend it."""

    file: str
    line: int | None
    path: str
    message: str
    fix: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        path = self.path or "(document)"
        return f"{where}: {path}: {self.message.rstrip('.')}. Fix: {self.fix}"


class DocumentError(Exception):
    """The file is not a valid document of its kind; `problems` says every reason."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class Mistake(ValueError):
    """Raised by a validator that can say how to mend the value it rejects."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.fix = fix


@dataclass(frozen=True)
class DocumentKind(Generic[M]):
    """How to validate one kind of YAML document and how to talk about its mistakes."""

    model: type[M]
    schema_id: str
    """The `schema:` line every document of this kind starts with."""
    noun: str
    """What one document is called in a sentence (`policy version`, `data map`)."""
    docs: str
    """Where the format is explained (`docs/policy-authoring.md`)."""
    pattern_names: Mapping[str, str] = field(default_factory=dict)
    """Regex of a constrained string field → what such a value is called (`category id`)."""
    pattern_fixes: Mapping[str, str] = field(default_factory=dict)
    """Regex → a sentence explaining the format."""
    value_error_fix: str = ""
    """The fix for a plain `ValueError` from a validator; a `Mistake` brings its own."""
    error: type[DocumentError] = DocumentError
    """The exception raised, so each kind's callers can catch their own."""


@dataclass(frozen=True)
class Loaded(Generic[M]):
    document: M
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


def load_yaml_file(path: str | os.PathLike[str], kind: DocumentKind[M]) -> Loaded[M]:
    """Read and validate one file; raises `kind.error` with every problem found."""
    source = os.fspath(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise kind.error(
            [Problem(source, None, "", "no such file", "check the path, relative to the current folder")]
        ) from None
    except UnicodeDecodeError as err:
        raise kind.error(
            [Problem(source, None, "", f"the file is not UTF-8 ({err.reason})", "save the file as UTF-8")]
        ) from None
    except OSError as err:
        problem = Problem(source, None, "", err.strerror or str(err), "check the path and its permissions")
        raise kind.error([problem]) from None
    return load_yaml_text(text, source, kind)


def load_yaml_text(text: str, source: str, kind: DocumentKind[M]) -> Loaded[M]:
    """Parse and validate YAML text; `source` names the file in problems."""
    node = _compose(text, source, kind)
    walk = _NodeWalk(source)
    walk.walk(node, "")
    if walk.is_recursive:
        raise kind.error(walk.problems)
    raw = _construct(node, text, source, kind)
    if not isinstance(raw, dict):
        raise kind.error([*walk.problems, _not_a_mapping(raw, source, node, kind)])
    try:
        document = kind.model.model_validate(raw)
    except ValidationError as err:
        explain = _Explainer(kind)
        problems = [explain.problem(e, source, walk.lines) for e in err.errors(include_url=False)]
        raise kind.error(_by_line([*walk.problems, *problems])) from None
    if walk.problems:
        raise kind.error(walk.problems)
    return Loaded(document=document, source=source, lines=walk.lines, raw=raw)


# --- YAML --------------------------------------------------------------------------------------------------


def _compose(text: str, source: str, kind: DocumentKind[Any]) -> yaml.Node:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as err:
        raise kind.error([_yaml_problem(err, source, kind)]) from None
    except yaml.YAMLError as err:
        raise kind.error([Problem(source, None, "", str(err), _YAML_FIX)]) from None
    if node is None:
        raise kind.error(
            [Problem(source, 1, "", "the file is empty", f"start the file with `schema: {kind.schema_id}`")]
        )
    return node


def _construct(node: yaml.Node, text: str, source: str, kind: DocumentKind[Any]) -> object:
    loader = yaml.SafeLoader(text)
    try:
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as err:
        raise kind.error([_yaml_problem(err, source, kind)]) from None
    finally:
        loader.dispose()


_YAML_FIX = (
    "check the indentation and quoting on this line and the one before it; quote a value that contains `: `, "
    "` #` or a comma inside `{…}`, or that starts with one of `{ [ * & ! % @` or a backtick"
)


def _yaml_problem(err: yaml.MarkedYAMLError, source: str, kind: DocumentKind[Any]) -> Problem:
    mark = err.problem_mark or err.context_mark
    line = mark.line + 1 if mark is not None else None
    message = ": ".join(s for s in (err.context, err.problem) if s) or "the YAML cannot be read"
    fix = _YAML_FIX
    if "'\\t'" in message:
        fix = "indent with spaces, never tabs"
    elif "expected a single document" in message:
        fix = f"keep one {kind.noun} per file: remove the second `---` document"
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


def _not_a_mapping(raw: object, source: str, node: yaml.Node, kind: DocumentKind[Any]) -> Problem:
    what = "a list" if isinstance(raw, list) else f"a single value ({raw!r})"
    return Problem(
        source,
        node.start_mark.line + 1,
        "",
        f"the document is {what}, not a mapping of fields",
        f"write the {kind.noun} as `field: value` lines, starting with `schema: {kind.schema_id}`",
    )


# --- validation errors -------------------------------------------------------------------------------------


def loc_path(loc: Loc) -> str:
    path = ""
    for part in loc:
        path = join_path(path, part)
    return path


def _name(loc: Loc) -> str:
    return str(loc[-1]) if loc else "document"


_YAML_KINDS: tuple[tuple[type, str], ...] = (
    (bool, "a boolean"),
    (int, "a number"),
    (float, "a number"),
    (dt.date, "a date"),
    (list, "a list"),
    (dict, "a mapping"),
)

_TEXT_LANGUAGES = {"zh": "the Chinese text (`zh`)", "en": "the English text (`en`)"}

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

Handler = Callable[["_Explainer", ErrorDetails, Loc], tuple[str, str]]


class _Explainer:
    """A message and a fix sentence tailored to each kind of validation error, in the words of one document kind."""

    def __init__(self, kind: DocumentKind[Any]) -> None:
        self.kind = kind
        self.classes = {cls.__name__: cls for cls in _model_classes(kind.model)}

    def problem(self, error: ErrorDetails, source: str, lines: Mapping[str, int]) -> Problem:
        loc = tuple(error["loc"])
        path = loc_path(loc)
        handler = _HANDLERS.get(error["type"])
        if handler is not None:
            message, fix = handler(self, error, loc)
        else:
            message, fix = error["msg"], self.shape_fix(error, _name(loc))
        return Problem(source, line_of(lines, path), path, message, fix)

    def missing(self, error: ErrorDetails, loc: Loc) -> tuple[str, str]:
        parent = loc_path(loc[:-1])
        where = f"under `{parent}`" if parent else "at the top level of the file"
        what = _TEXT_LANGUAGES.get(_name(loc), f"`{_name(loc)}`")
        return f"{what} is missing", f"add `{_name(loc)}:` {where}"

    def not_text(self, error: ErrorDetails, loc: Loc) -> tuple[str, str]:
        value = error["input"]
        if value is None:
            return f"`{_name(loc)}` is empty", f"write a value after `{_name(loc)}:`"
        what = next((name for cls, name in _YAML_KINDS if isinstance(value, cls)), type(value).__name__)
        message = f"`{_name(loc)}` must be text, but YAML read {value!r} as {what}"
        return message, f"put the value of `{_name(loc)}` in quotes so YAML reads it as text"

    def unknown_field(self, error: ErrorDetails, loc: Loc) -> tuple[str, str]:
        name = _name(loc)
        allowed = self.allowed_fields(loc[:-1])
        if not allowed:
            return f"unknown field `{name}`", "remove it or check the spelling"
        fix = "remove it or check the spelling; allowed fields are " + ", ".join(allowed)
        guess = difflib.get_close_matches(name, allowed, n=1)
        return f"unknown field `{name}`", f"did you mean `{guess[0]}`? {fix}" if guess else fix

    def enum(self, error: ErrorDetails, loc: Loc) -> tuple[str, str]:
        expected = str(error.get("ctx", {}).get("expected", ""))
        allowed = [a.strip().strip("'") for a in expected.replace(" or ", ", ").split(",") if a.strip()]
        fix = "use one of " + ", ".join(allowed)
        guess = difflib.get_close_matches(str(error["input"]), allowed, n=1)
        if guess:
            fix = f"did you mean `{guess[0]}`? {fix}"
        return f"{error['input']!r} is not an allowed value for `{_name(loc)}`", fix

    def literal(self, error: ErrorDetails, loc: Loc) -> tuple[str, str]:
        expected = error.get("ctx", {}).get("expected", "")
        return f"{error['input']!r} is not allowed here", f"write `{_name(loc)}: {str(expected).strip(chr(39))}`"

    def pattern_mismatch(self, error: ErrorDetails, loc: Loc) -> tuple[str, str]:
        pattern = str(error.get("ctx", {}).get("pattern", ""))
        what = self.kind.pattern_names.get(pattern, "value")
        fix = self.kind.pattern_fixes.get(pattern, f"write a value that matches the pattern {pattern}")
        return f"{error['input']!r} is not a valid {what}", fix

    def value_error(self, error: ErrorDetails, loc: Loc) -> tuple[str, str]:
        reason = error.get("ctx", {}).get("error")
        message = str(reason) if reason is not None else error["msg"]
        if isinstance(reason, Mistake):
            return message, reason.fix
        return message, self.kind.value_error_fix or f"see {self.kind.docs} for what `{_name(loc)}` takes"

    def shape_fix(self, error: ErrorDetails, name: str) -> str:
        kind = error["type"]
        if kind in _MAPPING_TYPES:
            cls = self.classes.get(str(error.get("ctx", {}).get("class_name")))
            fields = ", ".join(f"`{f}`" for f in _field_types(cls)) or "its fields"
            return f"write `{name}` as a mapping of {fields}"
        if kind.startswith("date"):
            return f"write `{name}` as a date, YYYY-MM-DD (e.g. 2025-01-31)"
        default = f"see {self.kind.docs} for what this field takes"
        return _SHAPE_FIXES.get(kind, default).format(name=name)

    def allowed_fields(self, loc: Loc) -> list[str]:
        cls: object = self.kind.model
        for part in loc:
            if isinstance(part, int):
                continue
            cls = _field_types(cls).get(part)
            if cls is None:
                return []
        return list(_field_types(cls))


_HANDLERS: dict[str, Handler] = {
    "missing": _Explainer.missing,
    "extra_forbidden": _Explainer.unknown_field,
    "unexpected_keyword_argument": _Explainer.unknown_field,
    "enum": _Explainer.enum,
    "literal_error": _Explainer.literal,
    "string_pattern_mismatch": _Explainer.pattern_mismatch,
    "value_error": _Explainer.value_error,
    "string_type": _Explainer.not_text,
}


# --- which fields a location allows ------------------------------------------------------------------------


def _model_classes(root: object) -> Iterator[type]:
    """Every model (and `Text`) reachable from `root`'s fields, `root` first."""
    seen: set[type] = set()
    todo: list[object] = [root]
    while todo:
        cls = todo.pop()
        if not isinstance(cls, type) or cls in seen:
            continue
        seen.add(cls)
        yield cls
        todo.extend(v for v in _field_types(cls).values() if v is not None)


def _field_types(cls: object) -> dict[str, object]:
    """Field name (as written in YAML) → the model or dataclass it holds, if any."""
    if isinstance(cls, type) and issubclass(cls, BaseModel):
        return {(info.alias or name): _inner_class(info.annotation) for name, info in cls.model_fields.items()}
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
