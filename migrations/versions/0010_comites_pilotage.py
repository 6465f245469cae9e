"""comités de pilotage, their participants, reviewed actions and decisions

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 14:00:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "comite",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("departement_code", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("planned_on", sa.Date(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=True),
        sa.Column("minutes", sqlmodel.sql.sqltypes.AutoString(length=10000), nullable=True),
        sa.Column("cancel_reason", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=True),
        sa.Column("recorded_by_agent_id", sa.Integer(), nullable=True),
        sa.Column("created_at", models.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["departement_code"],
            ["departement.code"],
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_agent_id"],
            ["agent.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reference"),
    )
    with op.batch_alter_table("comite", schema=None) as batch_op:
        batch_op.create_index("ix_comite_scope", ["level", "departement_code", "planned_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_comite_status"), ["status"], unique=False)

    op.create_table(
        "comite_contract",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("comite_id", sa.Integer(), nullable=False),
        sa.Column("ctai_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["comite_id"],
            ["comite.id"],
        ),
        sa.ForeignKeyConstraint(
            ["ctai_id"],
            ["ctai.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("comite_id", "ctai_id", name="uq_comite_contract"),
    )
    with op.batch_alter_table("comite_contract", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_comite_contract_comite_id"), ["comite_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_comite_contract_ctai_id"), ["ctai_id"], unique=False)

    op.create_table(
        "comite_participant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("comite_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("function", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["comite_id"],
            ["comite.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("comite_id", "position", name="uq_comite_participant"),
    )
    with op.batch_alter_table("comite_participant", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_comite_participant_comite_id"), ["comite_id"], unique=False)

    op.create_table(
        "comite_action_review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("comite_id", sa.Integer(), nullable=False),
        sa.Column("ctai_id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("decision", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("flag_for_review", sa.Boolean(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("created_at", models.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["action.id"],
        ),
        sa.ForeignKeyConstraint(
            ["comite_id"],
            ["comite.id"],
        ),
        sa.ForeignKeyConstraint(
            ["ctai_id"],
            ["ctai.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("comite_id", "action_id", name="uq_comite_action_review"),
    )
    with op.batch_alter_table("comite_action_review", schema=None) as batch_op:
        batch_op.create_index("ix_comite_action_review_flagged", ["ctai_id", "flag_for_review"], unique=False)
        batch_op.create_index(batch_op.f("ix_comite_action_review_action_id"), ["action_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_comite_action_review_comite_id"), ["comite_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("comite_action_review", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_comite_action_review_comite_id"))
        batch_op.drop_index(batch_op.f("ix_comite_action_review_action_id"))
        batch_op.drop_index("ix_comite_action_review_flagged")
    op.drop_table("comite_action_review")
    with op.batch_alter_table("comite_participant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_comite_participant_comite_id"))
    op.drop_table("comite_participant")
    with op.batch_alter_table("comite_contract", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_comite_contract_ctai_id"))
        batch_op.drop_index(batch_op.f("ix_comite_contract_comite_id"))
    op.drop_table("comite_contract")
    with op.batch_alter_table("comite", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_comite_status"))
        batch_op.drop_index("ix_comite_scope")
    op.drop_table("comite")
