"""Imports every model module so `Base.metadata` knows all tables (for Alembic and test set-up).

One import per line, kept sorted, so parallel branches each add a line without colliding.
"""

import charter.accounts.models
import charter.announcements.models
import charter.audit.models
import charter.consent.models
import charter.core.models
import charter.datamap.models
import charter.decisions.models
import charter.disclosures.models
import charter.incidents.models
import charter.operations.models
import charter.outbox.models
import charter.policy.models
import charter.ratelimit.models
import charter.requests.models
import charter.retention.models
import charter.sessions.models
import charter.subjects.models  # noqa: F401 - imported for their tables
from charter.core.db import Base

metadata = Base.metadata

__all__ = ["metadata"]
