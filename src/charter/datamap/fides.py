"""`charter datamap import-fides`: a Fides (fideslang) dataset YAML → a Charter data map, and a report of what
could not be mapped, so a team can move over and review the differences.

How fideslang maps:

- each Fides dataset → one system holding one SQL dataset (store kind, connection secret and region come from
  the command line: Fides keeps them elsewhere; `fides_meta.namespace.schema` → each collection's `db_schema`);
  a retention rule `imported` to review;
- `fides_meta.identity` → `identity:` (`email`, `phone_number` → `phone`); `primary_key`, `data_type`, `length`
  → `primary_key`, `type`, `length`; `references` → `references` with the same `direction`;
- `data_categories` → `categories`, keeping the personal ones (`system.*` is not personal data and is dropped);
- erasure, as Fides does it: every field holding a personal category is nulled, primary keys are left alone;
  `masking_strategy_override` `string_rewrite` → `mask`, `null_rewrite` → `nullify`, `hash`/`hmac` → `hash`;
  a collection with no primary key (which Fides skips) deletes the person's rows instead.

Everything else (nested fields, `after`, `erase_after`, `where_clauses`, format preservation, free-text
retention…) is listed in the report with what was done instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from charter.connectors.base import StoreKind
from charter.core.errors import CharterError
from charter.datamap.schema import SCHEMA_ID

__all__ = ["FidesImport", "FidesImportError", "Unmapped", "import_fides"]

_IDENTITIES = {"email": "email", "phone_number": "phone", "phone": "phone"}
_TYPES = {"string": "string", "integer": "integer", "float": "number", "boolean": "boolean"}
_KNOWN_FIELD_META = {"identity", "primary_key", "data_type", "length", "references", "masking_strategy_override"}
_RETENTION_RULE = "imported"
_NOT_PERSONAL = "system"


class FidesImportError(CharterError):
    code = "fides_import"


@dataclass(frozen=True)
class Unmapped:
    """Something of the Fides file Charter did not carry over as it was, and what it did instead."""

    path: str
    what: str
    instead: str

    def __str__(self) -> str:
        return f"{self.path}: {self.what}; {self.instead}"


@dataclass(frozen=True)
class FidesImport:
    document: dict[str, Any]
    """The data map, ready to dump as YAML (`to_yaml`) or validate (`DataMap.model_validate`)."""
    report: tuple[Unmapped, ...]
    categories: tuple[str, ...]
    """The personal data categories the map uses: the policy must declare each of them."""

    def to_yaml(self, source: str = "") -> str:
        lines = [f"# Imported from the Fides dataset {source} by `charter datamap import-fides`."] if source else []
        lines += ["# Categories the policy must declare: " + ", ".join(self.categories)]
        lines += ["# Not carried over as it was (review each):"] if self.report else []
        lines += [f"#   - {item}" for item in self.report]
        body = yaml.dump(self.document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)
        return "\n".join(lines) + "\n" + body


@dataclass
class _Importer:
    kind: StoreKind
    region: str | None
    secret: str | None
    report: list[Unmapped] = field(default_factory=list)
    categories: dict[str, None] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)

    def note(self, path: str, what: str, instead: str) -> None:
        self.report.append(Unmapped(path, what, instead))

    def dataset(self, raw: Mapping[str, Any], path: str, slugs: Mapping[str, str]) -> dict[str, Any]:
        key = str(raw.get("fides_key", ""))
        slug = slugs[key]
        for extra in sorted(set(raw) - {"fides_key", "name", "description", "collections", "data_categories",
                                        "organization_fides_key", "tags", "fides_meta"}):
            self.note(f"{path}.{extra}", f"`{extra}` has no place in a Charter data map", "left out")
        meta: Mapping[str, Any] = raw.get("fides_meta") or {}
        namespace: Mapping[str, Any] = meta.get("namespace") or {}
        for option in sorted(set(meta) - {"namespace"}):
            self.note(f"{path}.fides_meta.{option}", f"dataset option `{option}` is not read",
                      "left out: the connection comes from the secret named under `connection:`")
        collections = [self.collection(c, f"{path}.collections[{i}]", key, slugs)
                       for i, c in enumerate(_list(raw.get("collections"), f"{path}.collections"))]
        if namespace.get("schema"):
            collections = [{"name": c["name"], "db_schema": str(namespace["schema"]),
                            **{k: v for k, v in c.items() if k != "name"}} for c in collections]
        dataset: dict[str, Any] = {"id": slug, "kind": self.kind.value}
        if self.kind is not StoreKind.MANUAL:
            dataset["connection"] = {"secret": self.secret or _secret_name(slug)}
        if any(_uses_hash(c) for c in collections):
            dataset["hash_key"] = {"secret": f"{_secret_name(slug)}_HASH_KEY"}
        dataset["region"] = self.region or "ZZ"
        dataset["retention"] = _RETENTION_RULE
        dataset["collections"] = collections
        return dataset

    def collection(self, raw: Mapping[str, Any], path: str, dataset_key: str,
                   slugs: Mapping[str, str]) -> dict[str, Any]:
        name = str(raw.get("name", ""))
        for extra in sorted(set(raw) - {"name", "description", "fields", "fides_meta", "data_categories"}):
            self.note(f"{path}.{extra}", f"collection `{extra}` has no place in a Charter data map", "left out")
        for option in sorted((raw.get("fides_meta") or {}).keys()):
            self.note(f"{path}.fides_meta.{option}", f"collection option `{option}` is not supported",
                      "left out: Charter orders collections by their references")
        fields = [self.field(f, f"{path}.fields[{i}]", name, dataset_key, slugs)
                  for i, f in enumerate(_list(raw.get("fields"), f"{path}.fields"))]
        collection: dict[str, Any] = {"name": name}
        if raw.get("description"):
            collection["description"] = str(raw["description"])
        has_key = any(f.get("primary_key") for f in fields)
        if not has_key and any(f.get("categories") for f in fields):
            collection["erasure"] = "delete_row"
            for f in fields:
                f.pop("erasure", None)
            self.note(path, f"collection `{name}` declares no primary key, so Fides skips erasing it",
                      "Charter deletes the person's rows (`erasure: delete_row`)")
        collection["fields"] = fields
        return collection

    def field(self, raw: Mapping[str, Any], path: str, collection: str, dataset_key: str,
              slugs: Mapping[str, str]) -> dict[str, Any]:
        meta: Mapping[str, Any] = raw.get("fides_meta") or {}
        name = str(raw.get("name", ""))
        out: dict[str, Any] = {"name": name}
        if raw.get("description"):
            out["description"] = str(raw["description"])
        for extra in sorted(set(raw) - {"name", "description", "data_categories", "fides_meta"}):
            self.note(f"{path}.{extra}", f"`{extra}` (nested or extra field data) is not supported", "left out")
        for option in sorted(set(meta) - _KNOWN_FIELD_META):
            self.note(f"{path}.fides_meta.{option}", f"field option `{option}` is not supported", "left out")
        self._type(meta, path, out)
        if meta.get("primary_key"):
            out["primary_key"] = True
        out["categories"] = self._categories(raw.get("data_categories"), path)
        if meta.get("identity"):
            self._identity(str(meta["identity"]), path, out)
        references = [self._reference(r, f"{path}.fides_meta.references[{i}]", dataset_key, slugs)
                      for i, r in enumerate(meta.get("references") or [])]
        if references:
            out["references"] = references[0] if len(references) == 1 else references
        erasure = self._erasure(meta.get("masking_strategy_override"), f"{path}.fides_meta", out)
        if erasure is not None:
            out["erasure"] = erasure
        if not out["categories"]:
            del out["categories"]
        return out

    def _type(self, meta: Mapping[str, Any], path: str, out: dict[str, Any]) -> None:
        data_type = meta.get("data_type")
        if data_type is not None:
            mapped = _TYPES.get(str(data_type).removesuffix("[]"))
            if mapped is None or str(data_type).endswith("[]"):
                self.note(f"{path}.fides_meta.data_type", f"data type `{data_type}` has no Charter equivalent",
                          "the field's type is left undeclared")
            else:
                out["type"] = mapped
        if meta.get("length") is not None:
            out["length"] = int(meta["length"])

    def _categories(self, raw: Any, path: str) -> list[str]:
        kept: list[str] = []
        for category in raw or []:
            text = str(category)
            if text == _NOT_PERSONAL or text.startswith(_NOT_PERSONAL + "."):
                self.dropped[text] = self.dropped.get(text, 0) + 1
                continue
            kept.append(text)
            self.categories.setdefault(text, None)
        return kept

    def _identity(self, identity: str, path: str, out: dict[str, Any]) -> None:
        mapped = _IDENTITIES.get(identity)
        if mapped is None:
            self.note(f"{path}.fides_meta.identity", f"identity `{identity}` is not an identity kind Charter knows",
                      "use `account_id` or `visitor_id` if it is one; the field is not an identity for now")
            return
        out["identity"] = mapped

    def _reference(self, raw: Mapping[str, Any], path: str, dataset_key: str,
                   slugs: Mapping[str, str]) -> dict[str, str] | str:
        target = str(raw.get("field", ""))
        other = str(raw.get("dataset", dataset_key))
        written = target if other == dataset_key else f"{slugs.get(other, _slug(other))}.{target}"
        direction = raw.get("direction")
        if direction not in ("from", "to"):
            self.note(path, "a reference without `direction` is followed both ways by Fides",
                      "Charter follows it `from` the referenced field only (the safe way: no other person's rows)")
            return written
        return written if direction == "from" else {"field": written, "direction": "to"}

    def _erasure(self, override: Any, path: str, out: dict[str, Any]) -> Any:
        if override:
            mapped = self._override(override, f"{path}.masking_strategy_override", out)
            if mapped is not None:
                return mapped
        if out["categories"] and not out.get("primary_key"):
            return "nullify"
        if out["categories"] and out.get("primary_key"):
            self.note(path.removesuffix(".fides_meta"), f"primary key `{out['name']}` holds "
                      f"{', '.join(out['categories'])}", "left as it is, as Fides does; set `erasure: delete_row` "
                      "on the collection to remove the rows")
        return None

    def _override(self, override: Mapping[str, Any], path: str, out: dict[str, Any]) -> Any:
        strategy = str(override.get("strategy", ""))
        config: Mapping[str, Any] = override.get("configuration") or {}
        if strategy == "null_rewrite":
            return "nullify"
        if strategy in ("hash", "hmac"):
            out["type"] = "string"
            return "hash"
        if strategy == "string_rewrite" and "rewrite_value" in config:
            out.setdefault("type", "string")
            if config.get("format_preservation"):
                self.note(f"{path}.configuration.format_preservation", "format preservation is not supported",
                          f"the field is masked with {config['rewrite_value']!r} as it is")
            return {"strategy": "mask", "value": config["rewrite_value"]}
        self.note(path, f"masking strategy `{strategy}` has no Charter equivalent", "the field is nulled instead")
        return None


def import_fides(text: str, *, kind: StoreKind = StoreKind.POSTGRESQL, region: str | None = None,
                 secret: str | None = None, controller: str | None = None, version: str = "1") -> FidesImport:
    """Map every dataset of a fideslang file (`dataset: [...]`) to a Charter data map."""
    if not kind.is_sql:
        raise FidesImportError(f"a Fides dataset cannot be imported as a {kind} store",
                               fix="Import it as postgresql, mysql or sqlite; describe Redis, webhook and manual "
                                   "stores by hand (docs/datamap.md).")
    datasets = _datasets(text)
    importer = _Importer(kind=kind, region=region, secret=secret)
    slugs = {str(d.get("fides_key", "")): _slug(str(d.get("fides_key", ""))) for d in datasets}
    systems = []
    for i, raw in enumerate(datasets):
        dataset = importer.dataset(raw, f"dataset[{i}]", slugs)
        systems.append({"id": dataset["id"], "name": str(raw.get("name") or raw.get("fides_key")),
                        "datasets": [dataset]})
    if region is None:
        importer.note("(all datasets)", "Fides does not say where a dataset is stored",
                      "`region: ZZ` is a placeholder: set each dataset's ISO region (e.g. CN, HK)")
    importer.note("(all datasets)", "Fides datasets carry no retention rule Charter can enforce",
                  f"each names the rule `{_RETENTION_RULE}` (while the account is active): review it")
    for category, count in sorted(importer.dropped.items()):
        importer.note("data_categories", f"`{category}` is not personal data ({count} field(s))",
                      "dropped from the fields' categories")
    document: dict[str, Any] = {"schema": SCHEMA_ID}
    if controller:
        document["controller"] = controller
    document["version"] = version
    document["retention_rules"] = [{
        "id": _RETENTION_RULE, "while": "account_active",
        "reason": {"zh": "从 Fides 导入：账户存续期间保存，请复核",
                   "en": "Imported from Fides: kept while the account is active; review this rule"}}]
    document["systems"] = systems
    return FidesImport(document=document, report=tuple(importer.report), categories=tuple(importer.categories))


def _datasets(text: str) -> list[Mapping[str, Any]]:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise FidesImportError(f"the Fides file is not valid YAML{where}",
                               fix="Export the dataset again from Fides, or fix the YAML.") from None
    if isinstance(raw, dict) and "dataset" in raw:
        raw = raw["dataset"]
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list) or not raw or not all(isinstance(d, dict) and "collections" in d for d in raw):
        raise FidesImportError("the file holds no Fides dataset (`dataset:` with `collections:`)",
                               fix="Give a fideslang dataset file, like Fides' own data/dataset/*.yml.")
    return raw


def _list(value: Any, path: str) -> list[Mapping[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise FidesImportError(f"{path} is not a list of entries", fix="Check the Fides file's structure.")
    return value


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9_-]+", "_", text.lower()).strip("_-")
    if not slug or not slug[0].isalpha():
        slug = "d_" + slug
    return slug[:63].ljust(2, "_")


def _secret_name(slug: str) -> str:
    return re.sub(r"[^A-Z0-9_]", "_", slug.upper())[:50]


def _uses_hash(collection: Mapping[str, Any]) -> bool:
    return any(f.get("erasure") == "hash" for f in collection["fields"])


class _Dumper(yaml.SafeDumper):
    """Short lists and small option mappings on one line, the way a person writes a data map."""


_FLOW_KEYS = frozenset({"secret", "url", "zh", "en", "zh_tw", "field", "direction", "strategy", "value"})


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    flow = all(not isinstance(item, dict | list) for item in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


def _represent_dict(dumper: yaml.SafeDumper, data: dict[str, Any]) -> yaml.Node:
    flow = bool(data) and set(data) <= _FLOW_KEYS
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=flow)


_Dumper.add_representer(list, _represent_list)
_Dumper.add_representer(dict, _represent_dict)
