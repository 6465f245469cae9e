"""CTAI rework at the Diair review, CTAIR registration, signatures, yearly review with bilan and préfet signature

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 14:00:00
"""

import sqlalchemy as sa  # noqa: F401 - kept from Alembic's revision template
import sqlmodel  # noqa: F401 - kept from Alembic's revision template
from alembic import op  # noqa: F401 - kept from Alembic's revision template

import models.types  # noqa: F401 - kept from Alembic's revision template

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ctai", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("diair_cosignatory_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True)
        )
        batch_op.add_column(sa.Column("diair_cosigned_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("renews_ctai_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("review_year", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_ctai_renews_ctai_id", "ctai", ["renews_ctai_id"], ["id"])
    with op.batch_alter_table("action", schema=None) as batch_op:
        batch_op.add_column(sa.Column("nature", sa.String(length=20), nullable=False, server_default="fonctionnement"))
        batch_op.add_column(sa.Column("legal_act", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))

    op.create_table(
        "ctai_review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ctai_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("proposal", sa.String(length=10), nullable=True),
        sa.Column("socle_cents", sa.BigInteger(), nullable=True),
        sa.Column("complementary_cents", sa.BigInteger(), nullable=True),
        sa.Column("prepared_by_agent_id", sa.Integer(), nullable=True),
        sa.Column("signed_by_agent_id", sa.Integer(), nullable=True),
        sa.Column("opened_at", models.types.UtcDateTime(), nullable=False),
        sa.Column("decided_at", models.types.UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["ctai_id"],
            ["ctai.id"],
        ),
        sa.ForeignKeyConstraint(
            ["prepared_by_agent_id"],
            ["agent.id"],
        ),
        sa.ForeignKeyConstraint(
            ["signed_by_agent_id"],
            ["agent.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ctai_id", "year", name="uq_ctai_review_year"),
    )
    with op.batch_alter_table("ctai_review", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ctai_review_ctai_id"), ["ctai_id"], unique=False)

    op.create_table(
        "ctai_action_bilan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("carried_out", sa.Boolean(), nullable=False),
        sa.Column("public_reached", sa.Integer(), nullable=False),
        sa.Column("consumed_cents", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["action.id"],
        ),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["ctai_review.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("review_id", "action_id", name="uq_ctai_action_bilan"),
    )
    with op.batch_alter_table("ctai_action_bilan", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ctai_action_bilan_review_id"), ["review_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ctai_action_bilan", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ctai_action_bilan_review_id"))
    op.drop_table("ctai_action_bilan")
    with op.batch_alter_table("ctai_review", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ctai_review_ctai_id"))
    op.drop_table("ctai_review")
    with op.batch_alter_table("action", schema=None) as batch_op:
        batch_op.drop_column("legal_act")
        batch_op.drop_column("nature")
    with op.batch_alter_table("ctai", schema=None) as batch_op:
        batch_op.drop_constraint("fk_ctai_renews_ctai_id", type_="foreignkey")
        batch_op.drop_column("review_year")
        batch_op.drop_column("renews_ctai_id")
        batch_op.drop_column("diair_cosigned_on")
        batch_op.drop_column("diair_cosignatory_name")
