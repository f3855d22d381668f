"""One notice to many people through the outbox: each in their language, idempotently (running it again after a
crash queues nothing twice), suppressed addresses skipped and counted.

    counts = fan_out(outbox, "acme", Audience(session, keyring).everyone("acme"), template="policy_change",
                     params=lambda lang: {...}, key="policy_change:7", actor="scheduler")
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from charter.announcements.audience import Recipient
from charter.core.errors import CharterError
from charter.core.i18n import Lang
from charter.outbox import Channel, Outbox

__all__ = ["FanOut", "fan_out"]


@dataclass
class FanOut:
    queued: dict[str, int] = field(default_factory=dict)
    """Channel → messages queued now."""
    already: int = 0
    """Queued by an earlier run of the same notice."""
    suppressed: int = 0
    """Addresses that bounced before: not sent."""
    invalid: int = 0
    """Addresses the channel cannot take (a malformed email or number)."""

    @property
    def total(self) -> int:
        return sum(self.queued.values()) + self.already

    def as_json(self) -> dict[str, object]:
        return {"queued": dict(self.queued), "already": self.already, "suppressed": self.suppressed,
                "invalid": self.invalid}


def fan_out(outbox: Outbox, controller_id: str, recipients: Iterable[Recipient], *, template: str,
            params: Callable[[Lang], Mapping[str, object]], key: str, actor: str) -> FanOut:
    counts = FanOut()
    rendered: dict[Lang, Mapping[str, object]] = {}
    for recipient in recipients:
        if recipient.channel is not Channel.IN_APP and recipient.to is not None and outbox.is_suppressed(
                controller_id, recipient.to, recipient.channel):
            counts.suppressed += 1
            continue
        if recipient.language not in rendered:
            rendered[recipient.language] = params(recipient.language)
        try:
            queued = outbox.enqueue(controller_id, channel=recipient.channel, to=recipient.to,
                                    subject_id=recipient.subject_id,
                                    template=template, params=rendered[recipient.language],
                                    language=recipient.language, idempotency_key=f"{key}:{recipient.key}",
                                    actor=actor)
        except CharterError as exc:
            if exc.field in ("to", "email", "phone"):
                counts.invalid += 1
                continue
            raise
        if queued.created:
            counts.queued[recipient.channel.value] = counts.queued.get(recipient.channel.value, 0) + 1
        else:
            counts.already += 1
    return counts
