"""delegation batches carry updated_at, stamped by their state machine like every case

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 22:00:00
"""

import sqlalchemy as sa
from alembic import op

import models.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("delegation_batch", schema=None) as batch_op:
        batch_op.add_column(sa.Column("updated_at", models.types.UtcDateTime(timezone=True), nullable=True))
    op.execute("UPDATE delegation_batch SET updated_at = created_at")
    with op.batch_alter_table("delegation_batch", schema=None) as batch_op:
        batch_op.alter_column("updated_at", existing_type=models.types.UtcDateTime(timezone=True), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("delegation_batch", schema=None) as batch_op:
        batch_op.drop_column("updated_at")
