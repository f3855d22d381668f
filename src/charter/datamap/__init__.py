"""The data map: where each piece of personal data lives, checked against the policy, and the pure plan of a
request over it. The store of published versions is `charter.datamap.services`; the connectors it opens are
`charter.connectors`."""

from charter.datamap.check import check_datamap, check_file
from charter.datamap.connections import ConnectorPool, open_connector
from charter.datamap.fides import FidesImport, import_fides
from charter.datamap.loader import DataMapFileError, LoadedDataMap, load_datamap_file, load_datamap_text
from charter.datamap.plan import Action, LookupSource, Plan, Planner, TaskSpec, plan_request, resolve_lookup
from charter.datamap.schema import DataMap

__all__ = [
    "Action",
    "ConnectorPool",
    "DataMap",
    "DataMapFileError",
    "FidesImport",
    "LoadedDataMap",
    "LookupSource",
    "Plan",
    "Planner",
    "TaskSpec",
    "check_datamap",
    "check_file",
    "import_fides",
    "load_datamap_file",
    "load_datamap_text",
    "open_connector",
    "plan_request",
    "resolve_lookup",
]
