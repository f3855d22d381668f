"""The disclosure log: each hand-over of a person's data to a recipient, reported by the host."""

from charter.disclosures.services import DisclosureLog, DisclosureView

__all__ = ["DisclosureLog", "DisclosureView"]
