"""Incidents (LAN-BREACH, LUB-BREACH): record what happened, find the people affected from the data map and the time
window, draft notices carrying every element the jurisdictions require (refused when one is missing), send them
through the outbox or announce them, file with regulators against the clocks (CN 4 h / 1 h, GDPR 72 h), and
produce the regulator report in Chinese or English, as Markdown or PDF.
"""

from charter.incidents.clocks import ClockState, ClockStatus, IncidentFacts, applicable_clocks, clock_states
from charter.incidents.elements import MissingElement, check_elements, contact_text, required_elements
from charter.incidents.models import AffectedPerson, Incident, IncidentFiling, IncidentNotice
from charter.incidents.report import IncidentReports, build_report, to_markdown, to_pdf
from charter.incidents.resolve import AffectedResolver, Resolution, affected_collections, identity_route
from charter.incidents.services import IncidentIn, IncidentNotices, Incidents

__all__ = [
    "AffectedPerson",
    "AffectedResolver",
    "ClockState",
    "ClockStatus",
    "Incident",
    "IncidentFacts",
    "IncidentFiling",
    "IncidentIn",
    "IncidentNotice",
    "IncidentNotices",
    "IncidentReports",
    "Incidents",
    "MissingElement",
    "Resolution",
    "affected_collections",
    "applicable_clocks",
    "build_report",
    "check_elements",
    "clock_states",
    "contact_text",
    "identity_route",
    "required_elements",
    "to_markdown",
    "to_pdf",
]
