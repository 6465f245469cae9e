"""PTAI opinion and préfet decision, ministry decisions per request (postponed once)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 14:00:00
"""

import sqlalchemy as sa  # noqa: F401 - kept from Alembic's revision template
import sqlmodel  # noqa: F401 - kept from Alembic's revision template
from alembic import op  # noqa: F401 - kept from Alembic's revision template

import models.types  # noqa: F401 - kept from Alembic's revision template

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The instructeur's opinion (the préfet decides after it), and the ministry's postponements.
    with op.batch_alter_table("ptai_request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("opinion", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))
        batch_op.add_column(sa.Column("opinion_reasons", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column("postponements", sa.Integer(), nullable=False, server_default="0"))
    # Requests given an opinion before this version: a proposed amount is a favourable opinion.
    op.execute("UPDATE ptai_request SET opinion = 'favourable' WHERE proposed_cents IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("ptai_request", schema=None) as batch_op:
        for column in ("postponements", "opinion_reasons", "opinion"):
            batch_op.drop_column(column)
