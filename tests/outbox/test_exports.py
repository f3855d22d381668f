"""The public names other parts import are there, and registered where they must be."""

from __future__ import annotations

import charter.devmail
import charter.outbox
from charter.outbox.services import reencrypt_outbox
from charter.subjects.services import REENCRYPTORS


def test_every_exported_name_exists() -> None:
    for module in (charter.outbox, charter.devmail):
        assert module.__all__ == sorted(module.__all__, key=lambda n: (not n.isupper(), n))
        missing = [name for name in module.__all__ if not hasattr(module, name)]
        assert missing == [], module.__name__


def test_key_rotation_covers_the_outbox() -> None:
    assert reencrypt_outbox in REENCRYPTORS
