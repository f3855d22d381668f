"""A development mail server: an SMTP server on localhost that keeps every message, and a web inbox to read
them (`charter devmail`). Nothing is relayed anywhere. In tests:

    with DevMail() as mail:
        ...send to 127.0.0.1:mail.smtp_port...
        [received] = mail.wait_for(1)
"""

from charter.devmail.server import DevMail, free_port
from charter.devmail.store import MailStore, ReceivedMail
from charter.devmail.web import create_inbox_app

__all__ = ["DevMail", "MailStore", "ReceivedMail", "create_inbox_app", "free_port"]
