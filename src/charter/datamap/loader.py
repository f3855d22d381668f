"""Load a data map YAML file, explaining every mistake with its line and a fix (`charter.core.yamldoc`)."""

from __future__ import annotations

import os

from charter.core.secrets import SECRET_NAME
from charter.core.yamldoc import DocumentError, DocumentKind, Loaded, load_yaml_file, load_yaml_text
from charter.datamap import schema
from charter.datamap.schema import SCHEMA_ID, DataMap
from charter.policy import schema as policy_schema

__all__ = ["DATAMAP", "DataMapFileError", "LoadedDataMap", "load_datamap_file", "load_datamap_text"]


class DataMapFileError(DocumentError):
    """The file is not a valid data map; `problems` says every reason."""


LoadedDataMap = Loaded[DataMap]

DATAMAP = DocumentKind(
    model=DataMap,
    schema_id=SCHEMA_ID,
    noun="data map",
    docs="docs/datamap.md",
    pattern_names={
        policy_schema._SLUG: "id",
        policy_schema._CATEGORY_ID: "category id",
        policy_schema._REGION: "region code",
        schema._NAME: "name",
        schema._FIELD_REF: "field reference",
        SECRET_NAME: "secret name",
    },
    pattern_fixes={
        policy_schema._SLUG: "an id is 2 to 63 characters: a lowercase letter, then lowercase letters, digits, `_` "
        "or `-` (e.g. `shop_db`)",
        policy_schema._CATEGORY_ID: "a category id is lowercase words joined by dots, as declared in the policy "
        "(e.g. `contact.email`)",
        policy_schema._REGION: "a region is an ISO 3166-1 alpha-2 code in capitals (e.g. `CN` for mainland China, "
        "`HK`)",
        schema._NAME: "write the name as the store has it: a letter or `_`, then letters, digits, `_`, `$` or `-`, "
        "at most 63 characters",
        schema._FIELD_REF: "write `collection.field`, or `dataset.collection.field` for another dataset "
        "(e.g. `customer.id`)",
        SECRET_NAME: "a secret name is capitals, digits and `_`, starting with a capital (e.g. `SHOP_DB`); its value "
        "comes from the environment variable CHARTER_SECRET_<NAME> or the secrets file",
    },
    error=DataMapFileError,
)


def load_datamap_file(path: str | os.PathLike[str]) -> LoadedDataMap:
    """Read and validate one data map file; raises `DataMapFileError` with every problem found."""
    return load_yaml_file(path, DATAMAP)


def load_datamap_text(text: str, source: str) -> LoadedDataMap:
    """Parse and validate data map YAML; `source` names the file in problems."""
    return load_yaml_text(text, source, DATAMAP)
