"""Telling many people at once: the public announcements page of each controller (`/announcements/{controller}`,
HTML in its languages and JSON), and fanning one notice out to everyone through the outbox, each in their language.
Incidents, policy changes, controller transfers and shutdowns use both (LAN-BREACH, LUB-BREACH, LAN-CHANGE,
LAN-MERGER, LUB-SHUTDOWN).
"""

from charter.announcements.audience import Audience, Recipient, channels_for
from charter.announcements.fanout import FanOut, fan_out
from charter.announcements.models import Announcement, AnnouncementKind
from charter.announcements.pages import as_json, choose_language, render_page
from charter.announcements.services import Announcements, offered_languages, policy_in_force, text_of

__all__ = [
    "Announcement",
    "AnnouncementKind",
    "Announcements",
    "Audience",
    "FanOut",
    "Recipient",
    "as_json",
    "channels_for",
    "choose_language",
    "fan_out",
    "offered_languages",
    "policy_in_force",
    "render_page",
    "text_of",
]
