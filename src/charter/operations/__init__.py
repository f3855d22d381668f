"""The once-in-a-lifetime operations, each with a dry run, a report and audit events: controller transfer
(LAN-MERGER, LUB-TRANSFER), compelled disclosure (LAN-LEGAL-DISCLOSURE), ceasing operations (LUB-SHUTDOWN) and the
de-identified export for analytics (LUB-USE, LUB-DEIDENTIFIED); and the notices a policy change schedules
(LAN-CHANGE, LUB-CHANGE).
"""

from charter.operations.changes import PolicyChanges, is_material, material_changes, schedule_change
from charter.operations.deidentify import Column, Treatment, find_direct_identifier, parse_generalisation, plan_columns
from charter.operations.disclosure import Disclosures
from charter.operations.exports import DeidentifiedExporter, ExportRefused, ExportResult
from charter.operations.reports import closing_report, disclosure_register, transfer_report
from charter.operations.shutdown import ShutdownErasure, Shutdowns
from charter.operations.tasks import DueNotices, run_due_notices, run_due_notices_task
from charter.operations.transfer import HandOver, Transfers

__all__ = [
    "Column",
    "DeidentifiedExporter",
    "Disclosures",
    "DueNotices",
    "ExportRefused",
    "ExportResult",
    "HandOver",
    "PolicyChanges",
    "ShutdownErasure",
    "Shutdowns",
    "Transfers",
    "Treatment",
    "closing_report",
    "disclosure_register",
    "find_direct_identifier",
    "is_material",
    "material_changes",
    "parse_generalisation",
    "plan_columns",
    "run_due_notices",
    "run_due_notices_task",
    "schedule_change",
    "transfer_report",
]
