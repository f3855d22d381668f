"""What a transport is given and must do. One implementation per channel, chosen by settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from charter.core.i18n import Lang
from charter.outbox.models import Channel
from charter.outbox.rendering import Rendered


@dataclass(frozen=True)
class WebhookTarget:
    url: str
    secret: str


@dataclass(frozen=True)
class Outgoing:
    """A claimed message, decrypted, ready to hand to a transport. Lives only in memory."""

    id: str
    controller_id: str
    controller_name: str
    channel: Channel
    to: str
    language: Lang
    template: str
    content: Rendered
    webhook: WebhookTarget | None = None


class Transport(Protocol):
    def send(self, message: Outgoing) -> None:
        """Deliver or raise a `charter.outbox.delivery.DeliveryError` saying whether to retry."""

    def close(self) -> None:
        """Release connections kept between sends (called after each pass over the outbox)."""
