"""Erasure strategies applied to one value in Python, for stores (and strategies) that cannot do it in SQL.

Each transform is idempotent: applied to its own output it changes nothing, so an erasure that is run again
after a crash does no harm. A keyed hash is recognisable by its `hmac:` prefix and is not hashed again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import re
from collections.abc import Callable
from decimal import ROUND_FLOOR, Decimal

from charter.connectors.base import ErasureSpec, FieldType, Granularity, Scalar, Strategy

__all__ = ["HASH_PREFIX", "MIN_HASH_LENGTH", "as_scalar", "coerce", "erased_value", "is_hashed", "keyed_hash"]

HASH_PREFIX = "hmac:"
MIN_HASH_LENGTH = len(HASH_PREFIX) + 16
"""A hash shorter than 16 hex digits would collide too easily to keep rows apart."""
_HASHED = re.compile(r"^hmac:[0-9a-f]{16,64}$")
_MASK_CHAR = "*"


def keyed_hash(value: object, key: bytes, length: int | None = None) -> str:
    """`hmac:` and the hex HMAC-SHA256 of the value's text, cut to `length` characters if given."""
    digest = hmac.new(key, str(value).encode("utf-8"), hashlib.sha256).hexdigest()
    text = HASH_PREFIX + digest
    return text[:length] if length is not None else text


def is_hashed(value: object) -> bool:
    return isinstance(value, str) and _HASHED.match(value) is not None


def erased_value(erasure: ErasureSpec, value: object, *, hash_key: bytes | None = None,
                 length: int | None = None) -> object:
    """The value after `erasure`; `keep` and `delete_row` return it unchanged (they act on the row)."""
    strategy = erasure.strategy
    if strategy is Strategy.NULLIFY:
        return None
    if strategy is Strategy.MASK:
        return erasure.value
    if value is None or strategy in (Strategy.KEEP, Strategy.DELETE_ROW):
        return value
    if strategy is Strategy.HASH:
        if is_hashed(value):
            return value
        if hash_key is None:
            raise ValueError("the hash strategy needs a key")
        return keyed_hash(value, hash_key, length)
    return _generalised(erasure, value)


def _generalised(erasure: ErasureSpec, value: object) -> object:
    if erasure.to is not None:
        return _start_of(erasure.to, value)
    if erasure.keep_chars is not None:
        text = str(value)
        return text[: erasure.keep_chars] + _MASK_CHAR * max(len(text) - erasure.keep_chars, 0)
    if erasure.round_to is not None:
        return _rounded_down(value, erasure.round_to)
    return value


def _start_of(granularity: Granularity, value: object) -> object:
    month_of = (lambda d: 1) if granularity is Granularity.YEAR else (lambda d: d.month)
    if isinstance(value, dt.datetime):
        return value.replace(month=month_of(value), day=1, hour=0, minute=0, second=0, microsecond=0)
    if isinstance(value, dt.date):
        return value.replace(month=month_of(value), day=1)
    if isinstance(value, str):
        parsed = _parse_date(value)
        if parsed is None:
            return value
        return parsed.replace(month=month_of(parsed), day=1).isoformat()
    return value


def _parse_date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def _rounded_down(value: object, step: int) -> object:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value - value % step
    if isinstance(value, Decimal):
        # In whole numbers, exactly: a multiple of the step is whole, and Decimal division would round to the
        # context's 28 digits.
        whole = int(value.to_integral_value(rounding=ROUND_FLOOR))
        return Decimal(whole - whole % step)
    if isinstance(value, float):
        # Past 2**53 a float cannot hold every whole number, so a multiple of the step may not exist to round to.
        if not math.isfinite(value) or abs(value) + step >= _FLOAT_EXACT:
            return value
        return float(math.floor(value / step) * step)
    return value


_FLOAT_EXACT = 2.0**53


def as_scalar(value: object) -> Scalar:
    """A value from a store narrowed to what a lookup or record may carry."""
    if value is None or isinstance(value, str | int | float | bool | dt.date | dt.datetime):
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return str(value)


_TRUE = frozenset({"true", "1", "yes", "t"})
_FALSE = frozenset({"false", "0", "no", "f"})


def coerce(value: object, field_type: FieldType | None) -> object:
    """A value (say, from JSON, or a parent table's key) in the Python type its field declares, when it reads
    as one; otherwise unchanged, for the store to judge."""
    if value is None or field_type is None:
        return value
    try:
        return _COERCE[field_type](value)
    except (ValueError, TypeError, KeyError):
        return value


def _to_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise ValueError(value)


def _to_int(value: object) -> int:
    if isinstance(value, bool):
        raise TypeError(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return int(value.strip())
    if isinstance(value, float | Decimal) and value == int(value):
        return int(value)
    raise ValueError(value)


def _to_number(value: object) -> object:
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return value
    return float(str(value))


def _to_date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _to_datetime(value: object) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    return dt.datetime.fromisoformat(str(value))


def _to_string(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


_COERCE: dict[FieldType, Callable[[object], object]] = {
    FieldType.STRING: _to_string,
    FieldType.INTEGER: _to_int,
    FieldType.NUMBER: _to_number,
    FieldType.BOOLEAN: _to_bool,
    FieldType.DATE: _to_date,
    FieldType.DATETIME: _to_datetime,
    FieldType.JSON: lambda value: value,
}
