"""The outbox: the one way a message reaches a person — email (SMTP), SMS and push (signed webhooks to the
host), in-app notices — with templates in zh-CN, zh-TW and en, retries with backoff, and bounce suppression.

    from charter.outbox import Outbox
    Outbox(session, keyring).enqueue("lubpur", channel="email", to="wang@example.com",
                                     template="verification_code", params={"code": "042917",
                                     "expires_minutes": 10}, language="zh-CN", actor="requests")
"""

from charter.outbox.delivery import PermanentFailure, RecipientRejected, RetryPolicy, TransientFailure
from charter.outbox.interfaces import Outgoing, Transport, WebhookTarget
from charter.outbox.models import Channel, OutboxMessage, Status
from charter.outbox.rendering import TEMPLATES, Marketing, Rendered, check_templates, render
from charter.outbox.sender import DrainReport, OutboxSender
from charter.outbox.services import Notice, Outbox, Queued, WebhookEndpoints
from charter.outbox.signing import sign, verify_signature
from charter.outbox.tasks import BackgroundSender
from charter.outbox.transports import SmtpTransport, WebhookTransport, transports_from_settings

__all__ = [
    "TEMPLATES",
    "BackgroundSender",
    "Channel",
    "DrainReport",
    "Marketing",
    "Notice",
    "Outbox",
    "OutboxMessage",
    "OutboxSender",
    "Outgoing",
    "PermanentFailure",
    "Queued",
    "RecipientRejected",
    "Rendered",
    "RetryPolicy",
    "SmtpTransport",
    "Status",
    "TransientFailure",
    "Transport",
    "WebhookEndpoints",
    "WebhookTarget",
    "WebhookTransport",
    "check_templates",
    "render",
    "sign",
    "transports_from_settings",
    "verify_signature",
]
