"""Imports every model module so `Base.metadata` knows all tables (for Alembic and test set-up)."""

from charter.accounts import models as accounts_models
from charter.audit import models as audit_models
from charter.consent import models as consent_models
from charter.core import models as core_models
from charter.core.db import Base
from charter.decisions import models as decisions_models
from charter.policy import models as policy_models
from charter.subjects import models as subjects_models

metadata = Base.metadata

__all__ = [
    "accounts_models",
    "audit_models",
    "consent_models",
    "core_models",
    "decisions_models",
    "metadata",
    "policy_models",
    "subjects_models",
]
