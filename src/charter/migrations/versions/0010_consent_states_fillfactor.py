"""consent_states keeps free room on each page, so its updates stay HOT

Every consent event rewrites its (subject, purpose) row in the projection. With full pages each rewrite goes to
another page and adds an entry to the primary-key index; with 30% of each page kept free, PostgreSQL can write the
new version beside the old one (a heap-only tuple) and leave the index alone. Pages filled before this runs keep
their layout until rewritten (VACUUM FULL or pg_repack); new pages follow it. PostgreSQL only: elsewhere nothing
changes.

Revision ID: 0010
Revises: 0007
Create Date: 2026-11-23 02:50:00
"""
from __future__ import annotations

from alembic import op

revision = '0010'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE consent_states SET (fillfactor = 70)')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE consent_states RESET (fillfactor)')
