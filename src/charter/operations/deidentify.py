"""De-identification for analytics exports (LUB-USE, LUB-DEIDENTIFIED; PIPL art. 73). Pure.

Each column of a collection gets one treatment, decided from the data map:

- a field that is an identity (email, phone, account id, visitor id) is a direct identifier: dropped;
- a primary key or a reference (a key into another table) is replaced by a keyed pseudonym, so rows of the same
  person still join across the export but only the holder of the key (Charter, never the receiver) can go back;
- a field holding a personal category is a quasi-identifier: generalised when a generalisation is given (in the
  export or as the field's own `generalise` erasure), dropped otherwise;
- any other field is kept, or generalised if the export asks (a timestamp to its month, say).

Then every value that leaves is checked (`find_direct_identifier`): an email address, a phone number, a mainland
ID-card number, a bank-card number, or any of the row's own identity values. One hit refuses the whole export.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import phonenumbers
from stdnum import luhn
from stdnum.cn import ric

from charter.connectors.base import ErasureSpec, Granularity, Row, Strategy
from charter.connectors.transforms import erased_value
from charter.core.errors import CharterError
from charter.datamap.schema import Collection

__all__ = ["Column", "Treatment", "find_direct_identifier", "parse_generalisation", "plan_columns", "transform"]

_EMAIL = re.compile(r"[^@\s,;<>\"']+@[^@\s,;<>\"']+\.[A-Za-z]{2,}")
_DIGITS = re.compile(r"\d{17}[\dXx]|\d[\d\s-]{10,22}\d")


class Treatment(StrEnum):
    KEEP = "kept"
    DROP = "dropped"
    GENERALISE = "generalised"
    PSEUDONYMISE = "pseudonymised"


@dataclass(frozen=True)
class Column:
    name: str
    treatment: Treatment
    generalisation: ErasureSpec | None = None

    @property
    def description(self) -> str:
        g = self.generalisation
        if g is None:
            return self.treatment.value
        how = (f"to {g.to.value}" if g.to else f"keep {g.keep_chars} chars" if g.keep_chars is not None
               else f"round to {g.round_to}")
        return f"{self.treatment.value} ({how})"


def parse_generalisation(text: str) -> tuple[str, ErasureSpec]:
    """`birth_date=year`, `postcode=keep_chars:3`, `total=round_to:100` → (field, generalisation)."""
    name, _, rule = text.partition("=")
    kind, _, arg = rule.partition(":")
    try:
        if kind in ("year", "month"):
            return name.strip(), ErasureSpec(strategy=Strategy.GENERALISE, to=Granularity(kind))
        if kind in ("keep_chars", "round_to") and arg.isdigit():
            return name.strip(), ErasureSpec(strategy=Strategy.GENERALISE, **{kind: int(arg)})
    except ValueError:
        pass
    raise CharterError(f"cannot read the generalisation {text!r}", field="generalise",
                       fix="Write field=year, field=month, field=keep_chars:N or field=round_to:N.")


def plan_columns(collection: Collection, generalise: Mapping[str, ErasureSpec]) -> list[Column]:
    """The treatment of each declared field, in the collection's order."""
    names = {f.name for f in collection.fields}
    for name in generalise:
        if name not in names:
            raise CharterError(f"{collection.name} has no field {name!r} to generalise", field="generalise",
                               fix=f"Use one of: {', '.join(sorted(names))}.")
    columns = []
    for f in collection.fields:
        given = generalise.get(f.name) or (f.erasure if f.erasure and f.erasure.strategy is Strategy.GENERALISE
                                           else None)
        if f.identity is not None:
            if f.name in generalise:
                raise CharterError(f"{f.name} is an identity ({f.identity.value}): it is dropped, not generalised",
                                   field="generalise", fix="Remove it from the generalisations.")
            columns.append(Column(f.name, Treatment.DROP))
        elif f.primary_key or f.references:
            columns.append(Column(f.name, Treatment.PSEUDONYMISE))
        elif f.categories or f.name in generalise:
            spec = ErasureSpec.model_validate(given.model_dump()) if given is not None else None
            columns.append(Column(f.name, Treatment.GENERALISE, spec) if spec else Column(f.name, Treatment.DROP))
        else:
            columns.append(Column(f.name, Treatment.KEEP))
    return columns


def transform(row: Row, columns: Iterable[Column], pseudonym: Callable[[str, Any], str]) -> dict[str, Any]:
    """The exported row: dropped columns left out, the others treated."""
    out: dict[str, Any] = {}
    for column in columns:
        value = row.get(column.name)
        if column.treatment is Treatment.KEEP:
            out[column.name] = value
        elif column.treatment is Treatment.PSEUDONYMISE:
            out[column.name] = None if value is None else pseudonym(column.name, value)
        elif column.treatment is Treatment.GENERALISE and column.generalisation is not None:
            out[column.name] = erased_value(column.generalisation, value)
    return out


def find_direct_identifier(row: Mapping[str, Any], own: Iterable[str],
                           skip: Iterable[str] = ()) -> tuple[str, str] | None:
    """(column, what it looks like) for the first value that would identify someone directly, else None.
    `skip` names the pseudonym columns: keyed hashes this module wrote, whose hex may happen to hold digits."""
    known = {str(v).strip().lower() for v in own if v is not None and str(v).strip()}
    skipped = set(skip)
    for name, value in row.items():
        if value is None or name in skipped:
            continue
        text = str(value)
        found = _identifier_in(text, known)
        if found:
            return name, found
    return None


def _identifier_in(text: str, known: set[str]) -> str | None:
    lowered = text.strip().lower()
    if lowered in known or any(k in lowered for k in known if len(k) >= 6):
        return "one of the row's own identities"
    if _EMAIL.search(text):
        return "an email address"
    for match in phonenumbers.PhoneNumberMatcher(text, "CN", leniency=phonenumbers.Leniency.VALID):
        if match.number:
            return "a phone number"
    for candidate in _DIGITS.findall(text):
        digits = re.sub(r"[\s-]", "", candidate)
        if len(digits) == 18 and ric.is_valid(digits):
            return "a mainland resident ID number"
        if 13 <= len(digits) <= 19 and digits.isdigit() and luhn.is_valid(digits):
            return "a bank card number"
    return None
