"""step runs record their process, incidents and restarts (recovery sweep)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 12:00:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("step_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("worker", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True))
        batch_op.add_column(sa.Column("worker_at", models.types.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("incident", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True))
        batch_op.add_column(sa.Column("incident_at", models.types.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("restarts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("previous_run_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True))
        batch_op.add_column(sa.Column("first_run_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("step_run", schema=None) as batch_op:
        for column in ("first_run_id", "previous_run_id", "restarts", "incident_at", "incident", "worker_at", "worker"):
            batch_op.drop_column(column)
