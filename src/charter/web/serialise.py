"""Turn the pure cores' dataclasses, enums and `Text` into JSON-ready values."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from enum import Enum
from typing import Any

from pydantic import BaseModel


def jsonable(value: Any) -> Any:  # noqa: PLR0911 - one branch per kind of value reads best
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
        for name in _properties(type(value)):
            out[name] = jsonable(getattr(value, name))
        return out
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return value


def _properties(cls: type) -> list[str]:
    return [n for n, v in vars(cls).items() if isinstance(v, property) and not n.startswith("_")]
