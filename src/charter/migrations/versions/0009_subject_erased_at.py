"""subjects.erased_at: when an erasure reached Charter's own records for the person, so the decision log, written
in batches, never brings back the id of a person erased in between

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22 03:08:34.346622
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('subjects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('subjects', schema=None) as batch_op:
        batch_op.drop_column('erased_at')
