"""`charter datamap check`: what the schema alone cannot say about a data map, checked against the controller's
policy. Each check is a small function returning problems that carry the file, line, field path and a fix."""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from charter.connectors.base import FieldType, RedisType, StoreKind, Strategy
from charter.connectors.redis import placeholders
from charter.connectors.transforms import MIN_HASH_LENGTH
from charter.core.yamldoc import Problem
from charter.datamap.graph import build_graph, resolve_reference
from charter.datamap.loader import DataMapFileError, LoadedDataMap, load_datamap_file
from charter.datamap.schema import Collection, DataField, DataMap, Dataset, Erasure
from charter.datamap.specs import collection_key, effective_erasure
from charter.policy.loader import PolicyFileError, load_policy_file
from charter.policy.schema import PolicyVersion

__all__ = ["check_datamap", "check_file"]

Check = Callable[[LoadedDataMap, PolicyVersion], Iterable[Problem]]


def check_file(path: str | os.PathLike[str], policy_path: str | os.PathLike[str]) -> list[Problem]:
    """Load a data map and the policy it must agree with; every mistake in either comes back as a `Problem`."""
    try:
        policy = load_policy_file(policy_path).policy
    except PolicyFileError as err:
        return err.problems
    try:
        loaded = load_datamap_file(path)
    except DataMapFileError as err:
        return err.problems
    return check_datamap(loaded, policy)


def check_datamap(loaded: LoadedDataMap, policy: PolicyVersion) -> list[Problem]:
    """Every cross-check problem of a data map that passed the schema, in line order."""
    found = [problem for check in _CHECKS for problem in check(loaded, policy)]
    return sorted(found, key=lambda problem: problem.line or 0)


def _problem(loaded: LoadedDataMap, path: str, message: str, fix: str) -> Problem:
    return Problem(loaded.source, loaded.line_of(path), path, message, fix)


def _suggest(value: str, known: Iterable[str]) -> str:
    guess = difflib.get_close_matches(value, list(known), n=1)
    return f"did you mean `{guess[0]}`? " if guess else ""


# --- walking the map with paths ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _At:
    path: str
    dataset: Dataset
    collection: Collection


def _datasets(dm: DataMap) -> Iterator[tuple[str, Dataset]]:
    for i, system in enumerate(dm.systems):
        for j, dataset in enumerate(system.datasets):
            yield f"systems[{i}].datasets[{j}]", dataset


def _collections(dm: DataMap) -> Iterator[_At]:
    for path, dataset in _datasets(dm):
        for k, collection in enumerate(dataset.collections):
            yield _At(f"{path}.collections[{k}]", dataset, collection)


def _fields(dm: DataMap) -> Iterator[tuple[str, _At, DataField]]:
    for at in _collections(dm):
        for m, field in enumerate(at.collection.fields):
            yield f"{at.path}.fields[{m}]", at, field


def _qualified(at: _At, field: DataField | None = None) -> str:
    key = collection_key(at.dataset.id, at.collection.name)
    return f"{key}.{field.name}" if field is not None else key


# 1. Unique ids and names -------------------------------------------------------------------------------------


def check_unique(loaded: LoadedDataMap, policy: PolicyVersion) -> Iterator[Problem]:
    dm = loaded.document
    yield from _duplicates(loaded, [(f"systems[{i}].id", s.id) for i, s in enumerate(dm.systems)], "system id")
    yield from _duplicates(loaded, [(f"{p}.id", d.id) for p, d in _datasets(dm)], "dataset id")
    yield from _duplicates(loaded, [(f"retention_rules[{i}].id", r.id) for i, r in enumerate(dm.retention_rules)],
                           "retention rule id")
    for path, dataset in _datasets(dm):
        names = [(f"{path}.collections[{k}].name", c.name) for k, c in enumerate(dataset.collections)]
        yield from _duplicates(loaded, names, f"collection name in dataset `{dataset.id}`")
    for at in _collections(dm):
        names = [(f"{at.path}.fields[{m}].name", f.name) for m, f in enumerate(at.collection.fields)]
        yield from _duplicates(loaded, names, f"field name in collection `{_qualified(at)}`")


def _duplicates(loaded: LoadedDataMap, entries: Sequence[tuple[str, str]], what: str) -> Iterator[Problem]:
    first: dict[str, str] = {}
    for path, value in entries:
        if value not in first:
            first[value] = path
            continue
        yield _problem(loaded, path, f"the {what} `{value}` is already used at {first[value]} "
                       f"(line {loaded.line_of(first[value])})", "give each its own name, or merge the two entries")


# 2. The controller -------------------------------------------------------------------------------------------


def check_controller(loaded: LoadedDataMap, policy: PolicyVersion) -> Iterator[Problem]:
    named = loaded.document.controller
    if named is not None and named != policy.controller.id:
        yield _problem(loaded, "controller", f"the data map is for controller `{named}`, but the policy is "
                       f"`{policy.controller.id}`'s", f"write `controller: {policy.controller.id}`, or check the map "
                       "against that controller's own policy")


# 3. Categories exist in the policy ----------------------------------------------------------------------------


def check_categories(loaded: LoadedDataMap, policy: PolicyVersion) -> Iterator[Problem]:
    known = [c.id for c in policy.categories]
    for path, _at, field in _fields(loaded.document):
        for n, category in enumerate(field.categories):
            if category not in known:
                yield _problem(loaded, f"{path}.categories[{n}]", f"`{category}` is not a data category of the "
                               f"policy (version {policy.version})", f"{_suggest(category, known)}use a category "
                               "declared under the policy's `categories:`, or declare it there first")


# 4. References resolve ----------------------------------------------------------------------------------------


def check_references(loaded: LoadedDataMap, policy: PolicyVersion) -> Iterator[Problem]:
    dm = loaded.document
    for path, at, field in _fields(dm):
        for n, reference in enumerate(field.references):
            where = f"{path}.references[{n}].field"
            target = resolve_reference(dm, at.dataset, reference)
            if target is None:
                yield _problem(loaded, where, f"`{reference.field}` names no field of the data map",
                               f"{_suggest(reference.field, _field_names(dm, at.dataset))}write `collection.field` "
                               "for a field of this dataset, or `dataset.collection.field` for another dataset's")
            elif target.key == _qualified(at):
                yield _problem(loaded, where, "a reference within one collection would lead from the person's rows "
                               "to other people's", "remove the reference; a collection is searched by its own "
                               "identity fields and by references from other collections")


def _field_names(dm: DataMap, dataset: Dataset) -> list[str]:
    local = [f"{c.name}.{f.name}" for c in dataset.collections for f in c.fields]
    remote = [f"{d.id}.{c.name}.{f.name}" for _s, d in dm.datasets() for c in d.collections for f in c.fields]
    return local + remote


# 5. Every collection is reachable from an identity -----------------------------------------------------------


def check_reachable(loaded: LoadedDataMap, policy: PolicyVersion) -> Iterator[Problem]:
    reached = build_graph(loaded.document).distances()
    for at in _collections(loaded.document):
        if _qualified(at) not in reached:
            yield _problem(loaded, at.path, f"no identity leads to collection `{_qualified(at)}`: none of its fields "
                           "is an `identity:` and no reference reaches it from a collection that is found",
                           "mark the field holding the person's email, phone or account id with `identity: …`, or "
                           "give its owner-id field `references: <collection>.<field>` to a collection that is found")


# 6. Erasure strategies fit their fields ----------------------------------------------------------------------

_OPTIONS = {"value": Strategy.MASK, "to": Strategy.GENERALISE, "keep_chars": Strategy.GENERALISE,
            "round_to": Strategy.GENERALISE, "rule": Strategy.KEEP}
_ROW_BY_ROW = "the SQL connector computes it in Python row by row, updating each row by its key"


def check_erasure(loaded: LoadedDataMap, policy: PolicyVersion) -> Iterator[Problem]:
    dm = loaded.document
    for at in _collections(dm):
        yield from _collection_erasure(loaded, at)
    for path, at, field in _fields(dm):
        erasure = effective_erasure(at.collection, field)
        own = f"{path}.erasure" if field.erasure is not None else f"{at.path}.erasure"
        if erasure is None:
            if field.categories and not field.primary_key:
                yield _problem(loaded, path, f"field `{_qualified(at, field)}` holds {', '.join(field.categories)} "
                               "but says nothing about erasure, so erasure would leave it as it is",
                               "add `erasure: nullify` (or delete_row, mask, hash, generalise; or keep with the "
                               "retention rule that locks it)")
            continue
        for message, fix in _misfits(dm, at, field, erasure):
            yield _problem(loaded, own, f"`{_qualified(at, field)}`: {message}", fix)


def _collection_erasure(loaded: LoadedDataMap, at: _At) -> Iterator[Problem]:
    deleting = [f for f in at.collection.fields if (e := effective_erasure(at.collection, f)) is not None
                and e.strategy is Strategy.DELETE_ROW]
    kept = [f for f in at.collection.fields if (e := effective_erasure(at.collection, f)) is not None
            and e.strategy is Strategy.KEEP]
    if deleting and kept:
        names = ", ".join(f.name for f in kept)
        yield _problem(loaded, at.path, f"collection `{_qualified(at)}` deletes its rows on erasure but keeps "
                       f"{names} under a retention rule: a deleted row keeps nothing",
                       "either erase field by field (nullify, mask, hash, generalise) and keep the locked ones, or "
                       "drop `keep` and delete the rows")


def _misfits(dm: DataMap, at: _At, field: DataField, erasure: Erasure) -> Iterator[tuple[str, str]]:
    for option, owner in _OPTIONS.items():
        if getattr(erasure, option) is not None and erasure.strategy is not owner:
            yield f"`{option}` is only for the {owner} strategy", f"remove `{option}` or use `strategy: {owner}`"
    yield from _FITS[erasure.strategy](dm, at, field, erasure)


def _fit_delete_row(dm: DataMap, at: _At, field: DataField, erasure: Erasure) -> Iterator[tuple[str, str]]:
    return iter(())


def _fit_nullify(dm: DataMap, at: _At, field: DataField, erasure: Erasure) -> Iterator[tuple[str, str]]:
    if field.primary_key:
        yield "a primary key cannot be NULL", "erase the row with `delete_row`, or leave the key without `erasure:`"
    elif not field.nullable:
        yield "the field is NOT NULL (`nullable: false`), so it cannot be nullified", \
            "use `mask` with a value, or `delete_row`"


def _fit_mask(dm: DataMap, at: _At, field: DataField, erasure: Erasure) -> Iterator[tuple[str, str]]:
    yield from _not_a_key(field, erasure)
    if erasure.value is None:
        yield "`mask` needs the fixed `value:` to write", "add `value:` (e.g. `value: \"***\"`), or use `nullify`"
        return
    if field.type is None:
        yield "`mask` needs the field's `type:` to check the value fits", "add `type:` to the field"
        return
    if not _value_fits(erasure.value, field.type):
        yield f"the mask value {erasure.value!r} is not a {field.type}", f"give a {field.type} `value:`"
    elif isinstance(erasure.value, str) and field.length is not None and len(erasure.value) > field.length:
        yield f"the mask value is longer than the field's length {field.length}", "shorten `value:`"


def _fit_hash(dm: DataMap, at: _At, field: DataField, erasure: Erasure) -> Iterator[tuple[str, str]]:
    yield from _not_a_key(field, erasure)
    if field.type is not FieldType.STRING:
        yield "a keyed hash is text, so `hash` needs `type: string`", "declare `type: string`, or use another strategy"
    if field.length is not None and field.length < MIN_HASH_LENGTH:
        yield f"a keyed hash needs at least {MIN_HASH_LENGTH} characters, the field holds {field.length}", \
            "use `mask` or `nullify` for so short a field"
    if at.dataset.hash_key is None:
        yield f"dataset `{at.dataset.id}` names no `hash_key:`", "add `hash_key: {secret: NAME}` to the dataset"
    yield from _needs_row_key(at)


def _fit_generalise(dm: DataMap, at: _At, field: DataField, erasure: Erasure) -> Iterator[tuple[str, str]]:
    yield from _not_a_key(field, erasure)
    options = [o for o in ("to", "keep_chars", "round_to") if getattr(erasure, o) is not None]
    if len(options) != 1:
        yield "`generalise` needs exactly one of `to:` (dates), `keep_chars:` (text) or `round_to:` (numbers)", \
            "keep the one that fits the field"
        return
    wanted = {"to": (FieldType.DATE, FieldType.DATETIME), "keep_chars": (FieldType.STRING,),
              "round_to": (FieldType.INTEGER, FieldType.NUMBER)}[options[0]]
    if field.type not in wanted:
        yield f"`{options[0]}` generalises {' or '.join(wanted)} fields, but the field is " \
            f"{field.type or 'of no declared type'}", "declare the field's `type:`, or use the option for its type"
    if options[0] != "to":
        yield from _needs_row_key(at)


def _fit_keep(dm: DataMap, at: _At, field: DataField, erasure: Erasure) -> Iterator[tuple[str, str]]:
    known = [r.id for r in dm.retention_rules]
    if erasure.rule is None:
        yield "`keep` must name the retention rule that locks the field", \
            f"add `rule:` with one of {', '.join(known)}"
    elif erasure.rule not in known:
        yield f"`{erasure.rule}` is not a retention rule of the map", \
            f"{_suggest(erasure.rule, known)}use an id under `retention_rules:`, or add the rule there"


def _not_a_key(field: DataField, erasure: Erasure) -> Iterator[tuple[str, str]]:
    if field.primary_key and erasure.strategy is not Strategy.NULLIFY:
        yield f"a primary key cannot be changed with `{erasure.strategy}`", \
            "erase the row with `delete_row`, or leave the key without `erasure:`"


def _needs_row_key(at: _At) -> Iterator[tuple[str, str]]:
    if at.dataset.kind.is_sql and not any(f.primary_key for f in at.collection.fields):
        yield f"{_ROW_BY_ROW}, and collection `{_qualified(at)}` declares no primary key", \
            "mark its key column(s) with `primary_key: true`"


def _value_fits(value: object, field_type: FieldType) -> bool:
    if field_type is FieldType.STRING:
        return isinstance(value, str)
    if field_type is FieldType.INTEGER:
        return isinstance(value, int) and not isinstance(value, bool)
    if field_type is FieldType.NUMBER:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if field_type is FieldType.BOOLEAN:
        return isinstance(value, bool)
    if field_type in (FieldType.DATE, FieldType.DATETIME):
        return not isinstance(value, bool | int | float)
    return True


_FITS: dict[Strategy, Callable[[DataMap, _At, DataField, Erasure], Iterator[tuple[str, str]]]] = {
    Strategy.DELETE_ROW: _fit_delete_row,
    Strategy.NULLIFY: _fit_nullify,
    Strategy.MASK: _fit_mask,
    Strategy.HASH: _fit_hash,
    Strategy.GENERALISE: _fit_generalise,
    Strategy.KEEP: _fit_keep,
}


# 7. Regions ----------------------------------------------------------------------------------------------------


def check_regions(loaded: LoadedDataMap, policy: PolicyVersion) -> Iterator[Problem]:
    allowed = ", ".join(policy.storage_regions)
    for path, dataset in _datasets(loaded.document):
        if dataset.region not in policy.storage_regions:
            yield _problem(loaded, f"{path}.region", f"dataset `{dataset.id}` is stored in {dataset.region}, outside "
                           f"the policy's storage regions ({allowed}): the policy promises storage there",
                           f"move the data to {allowed} and set `region:` to match, or change the policy's "
                           "`storage_regions:` (a material change that needs fresh consent)")


# 8. Connections ------------------------------------------------------------------------------------------------


def check_connections(loaded: LoadedDataMap, policy: PolicyVersion) -> Iterator[Problem]:
    for path, dataset in _datasets(loaded.document):
        for where, message, fix in _connection_misfits(dataset):
            yield _problem(loaded, f"{path}{where}", f"dataset `{dataset.id}` ({dataset.kind}): {message}", fix)


def _connection_misfits(dataset: Dataset) -> Iterator[tuple[str, str, str]]:
    connection = dataset.connection
    kind = dataset.kind
    if kind is StoreKind.MANUAL:
        if connection is not None:
            yield ".connection", "a manual store has no connection", "remove `connection:`"
        if dataset.instructions is None and any(c.instructions is None for c in dataset.collections):
            yield "", "staff need instructions for a manual store", \
                "add `instructions: {zh: …, en: …}` to the dataset (or to each collection)"
        return
    secret_is = "the URL, with its password" if kind is not StoreKind.WEBHOOK else "the signing key"
    if connection is None or connection.secret is None:
        yield ".connection", f"no secret names {secret_is}", "add `connection: {secret: NAME}`; set its value in " \
            "CHARTER_SECRET_NAME or the secrets file, never in the data map"
    if kind is StoreKind.WEBHOOK:
        yield from _webhook_url(connection.url if connection else None)
    elif connection is not None and connection.url is not None:
        yield ".connection.url", "a database URL carries credentials, so it never goes in the data map", \
            "remove `url:` and put the URL in the secret `connection: {secret: NAME}` names"


def _webhook_url(url: str | None) -> Iterator[tuple[str, str, str]]:
    if url is None:
        yield ".connection", "a webhook needs the host's `url:`", "add `url: https://…` under `connection:`"
        return
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        yield ".connection.url", f"{url!r} is not an http(s) URL", "write it like https://host.example/charter"
    elif parts.username or parts.password:
        yield ".connection.url", "the URL carries credentials", \
            "remove them: Charter signs each call with the key in `connection: secret:`"
    elif parts.scheme == "http" and not _is_loopback(parts.hostname):
        yield ".connection.url", "personal data would cross the network unencrypted over http", \
            "use https (plain http is accepted only for 127.0.0.1/localhost)"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# 9. Collections fit their store --------------------------------------------------------------------------------

_STORE_ONLY = {"table": "SQL", "db_schema": "SQL", "key": "Redis", "redis_type": "Redis", "endpoint": "webhook",
               "instructions": "manual"}
_SQL = (StoreKind.POSTGRESQL, StoreKind.MYSQL, StoreKind.SQLITE)
_STORE_OF: dict[str, tuple[StoreKind, ...]] = {
    "table": _SQL, "db_schema": _SQL, "key": (StoreKind.REDIS,), "redis_type": (StoreKind.REDIS,),
    "endpoint": (StoreKind.WEBHOOK,), "instructions": (StoreKind.MANUAL,)}


def check_collections(loaded: LoadedDataMap, policy: PolicyVersion) -> Iterator[Problem]:
    for at in _collections(loaded.document):
        for option, kinds in _STORE_OF.items():
            if getattr(at.collection, option) is not None and at.dataset.kind not in kinds:
                yield _problem(loaded, f"{at.path}.{option}", f"`{option}` is for {_STORE_ONLY[option]} collections, "
                               f"and dataset `{at.dataset.id}` is {at.dataset.kind}", f"remove `{option}`")
        if at.dataset.kind is StoreKind.REDIS:
            yield from _redis_collection(loaded, at)


def _redis_collection(loaded: LoadedDataMap, at: _At) -> Iterator[Problem]:
    collection = at.collection
    if collection.key is None:
        yield _problem(loaded, at.path, f"Redis collection `{_qualified(at)}` has no key pattern",
                       "add `key:` with one placeholder, e.g. `key: \"session:{account_id}\"`")
        return
    names = placeholders(collection.key)
    if len(names) != 1 or re.sub(r"\{[^}]*\}", "", collection.key).count("{"):
        yield _problem(loaded, f"{at.path}.key", f"the key pattern {collection.key!r} must have exactly one "
                       "`{field}` placeholder", "name one field, e.g. `cart:{account_id}`; use `*` for other parts")
        return
    key_field = collection.field(names[0])
    if key_field is None:
        yield _problem(loaded, f"{at.path}.key", f"the placeholder `{{{names[0]}}}` names no field of the collection",
                       f"add a field `{names[0]}` (the identity or reference the key is built from)")
        return
    if collection.redis_type is None:
        yield _problem(loaded, at.path, f"Redis collection `{_qualified(at)}` does not say what its keys hold",
                       "add `redis_type: string`, `hash` or `set`")
    yield from _redis_fields(loaded, at, key_field)


def _redis_fields(loaded: LoadedDataMap, at: _At, key_field: DataField) -> Iterator[Problem]:
    values = [(m, f) for m, f in enumerate(at.collection.fields) if f.name != key_field.name]
    if at.collection.redis_type in (RedisType.STRING, RedisType.SET) and len(values) != 1:
        yield _problem(loaded, at.path, f"a Redis {at.collection.redis_type} holds one value, so the collection needs "
                       f"exactly one field besides the key field `{key_field.name}`", "keep one value field")
    for m, f in values:
        if f.identity is not None or f.references:
            yield _problem(loaded, f"{at.path}.fields[{m}]", f"`{f.name}` is inside the Redis value, so Charter "
                           "cannot search by it", f"search by the key: give `{key_field.name}` the `identity:` or "
                           "`references:` instead")
    erasure = effective_erasure(at.collection, key_field)
    if key_field.categories and (erasure is None or erasure.strategy is not Strategy.DELETE_ROW):
        yield _problem(loaded, at.path, f"the key of `{_qualified(at)}` holds {', '.join(key_field.categories)}, and "
                       "only deleting the key erases it", "set `erasure: delete_row` on the collection")


# 10. Retention rules -------------------------------------------------------------------------------------------


def check_retention(loaded: LoadedDataMap, policy: PolicyVersion) -> Iterator[Problem]:
    dm = loaded.document
    rules = [r.id for r in dm.retention_rules]
    purposes = [p.id for p in policy.purposes]
    for i, rule in enumerate(dm.retention_rules):
        if rule.days is None and rule.while_ is None:
            yield _problem(loaded, f"retention_rules[{i}]", f"retention rule `{rule.id}` says neither how long nor "
                           "while what", "add `days:` or `while: account_active` (with `after_days:` if needed)")
        if rule.purpose is not None and rule.purpose not in purposes:
            yield _problem(loaded, f"retention_rules[{i}].purpose", f"`{rule.purpose}` is not a purpose of the policy",
                           f"{_suggest(rule.purpose, purposes)}use a purpose id from the policy's `purposes:`")
    for path, dataset in _datasets(dm):
        if dataset.retention not in rules:
            yield _problem(loaded, f"{path}.retention", f"`{dataset.retention}` is not a retention rule of the map",
                           f"{_suggest(dataset.retention, rules)}use an id under `retention_rules:` "
                           f"({', '.join(rules)}), or add the rule there")
    for at in _collections(dm):
        for key in ("collected_at", "ended_at"):
            yield from _moment_field(loaded, at, key)


def _moment_field(loaded: LoadedDataMap, at: _At, key: str) -> Iterator[Problem]:
    """A field a sweep compares with a cutoff must exist, hold a moment, and be readable by the store."""
    name = getattr(at.collection, key)
    if name is None:
        return
    path = f"{at.path}.{key}"
    field = at.collection.field(name)
    if field is None:
        names = [f.name for f in at.collection.fields]
        yield _problem(loaded, path, f"`{name}` is not a field of `{_qualified(at)}`",
                       f"{_suggest(name, names)}name one of its fields, and declare it under `fields:`")
        return
    if at.dataset.kind is StoreKind.MANUAL:
        yield _problem(loaded, path, f"`{_qualified(at)}` is in a manual store, which Charter cannot sweep",
                       f"remove `{key}:`; staff apply the dataset's retention rule by hand")
    elif field.type not in (FieldType.DATE, FieldType.DATETIME):
        yield _problem(loaded, path, f"`{key}: {name}` names a field not declared a date or datetime",
                       f"give `{name}` `type: datetime` (or `date`)")
    elif at.dataset.kind is StoreKind.REDIS and (at.collection.redis_type is not RedisType.HASH
                                                  or name in placeholders(at.collection.key or "")):
        yield _problem(loaded, path, f"`{_qualified(at)}` keeps `{name}` where a sweep cannot read it: only a field "
                       "of a Redis hash can be compared", "let the host set a TTL on such keys instead, or store "
                       "the moment in a hash field")


_CHECKS: tuple[Check, ...] = (
    check_unique,
    check_controller,
    check_categories,
    check_references,
    check_reachable,
    check_erasure,
    check_regions,
    check_connections,
    check_collections,
    check_retention,
)
