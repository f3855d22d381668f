"""The data map names every table and column that could hold personal data; what it leaves out is listed here,
with the reason, so a new column cannot slip past."""

from __future__ import annotations

from pathlib import Path

import yaml

from lubpur.db import Base
from lubpur.schema import create_schema  # noqa: F401 - registers every model

DATAMAP = Path(__file__).resolve().parents[3] / "examples/lubpur/datamap.yaml"
NO_PERSONAL_DATA = {"products", "staff", "newsletters", "page_view_counts"}
# Columns of mapped tables that hold no personal data of their own (state, opaque tokens, foreign keys to
# non-personal tables, server-side timestamps of no behavioural meaning).
NOT_PERSONAL = {
    "users": {"avatar_type", "status", "suspended_at", "policy_version", "lang", "created_at"},
    "guardian_consents": {"token_hash", "requested_at", "confirmed_at"},
    "web_sessions": {"staff_id", "created_at", "expires_at"},
    "purchase_requests": {"is_contact_third_party", "status"},
    "consultations": {"status", "updated_at"},
    "consultation_messages": {"sender", "staff_id"},
    "subscriptions": {"status", "confirm_token_hash", "manage_token"},
    "newsletter_deliveries": {"newsletter_id"},
    "consent_choices": {"purpose", "is_granted", "kind", "policy_version", "method", "reported_at"},
    "charter_reports": {"kind", "created_at", "delivered_at"},
}


def test_every_column_is_mapped_or_declared_free_of_personal_data() -> None:
    doc = yaml.safe_load(DATAMAP.read_text(encoding="utf-8"))
    mapped = {c["name"]: {f["name"] for f in c["fields"]}
              for c in doc["systems"][0]["datasets"][0]["collections"]}
    tables = {name: {c.name for c in table.columns} for name, table in Base.metadata.tables.items()}
    assert set(tables) - NO_PERSONAL_DATA == set(mapped)
    for name, columns in mapped.items():
        assert columns <= tables[name], name
        assert tables[name] - columns == NOT_PERSONAL.get(name, set()), name
