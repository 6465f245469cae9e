"""legal acts, payments and comptes rendus financiers

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 18:12:01.761886
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.types

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "legal_act",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("family_key", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("replaces_act_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("departement_code", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("porteur_id", sa.Integer(), nullable=True),
        sa.Column("collectivite_id", sa.Integer(), nullable=True),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=True),
        sa.Column("signatory_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("signatory_title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("signed_by_agent_id", sa.Integer(), nullable=True),
        sa.Column("refusal_reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("ej_number", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column("created_at", models.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["collectivite_id"],
            ["collectivite.id"],
        ),
        sa.ForeignKeyConstraint(
            ["departement_code"],
            ["departement.code"],
        ),
        sa.ForeignKeyConstraint(
            ["porteur_id"],
            ["porteur.id"],
        ),
        sa.ForeignKeyConstraint(
            ["replaces_act_id"],
            ["legal_act.id"],
        ),
        sa.ForeignKeyConstraint(
            ["signed_by_agent_id"],
            ["agent.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("family_key", "version", name="uq_legal_act_version"),
        sa.UniqueConstraint("reference"),
    )
    with op.batch_alter_table("legal_act", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_legal_act_departement_code"), ["departement_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_legal_act_family_key"), ["family_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_legal_act_porteur_id"), ["porteur_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_legal_act_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_legal_act_year"), ["year"], unique=False)
        batch_op.create_index(
            "uq_legal_act_family_draft",
            ["family_key"],
            unique=True,
            sqlite_where=sa.text("status = 'awaiting_signature'"),
            postgresql_where=sa.text("status = 'awaiting_signature'"),
        )

    op.create_table(
        "compte_rendu_financier",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("family_key", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("act_id", sa.Integer(), nullable=False),
        sa.Column("porteur_id", sa.Integer(), nullable=False),
        sa.Column("departement_code", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("transmitted_on", sa.Date(), nullable=True),
        sa.Column("expenses_cents", sa.BigInteger(), nullable=True),
        sa.Column("used_cents", sa.BigInteger(), nullable=True),
        sa.Column("summary", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("complement_deadline", sa.Date(), nullable=True),
        sa.Column("repay_cents", sa.BigInteger(), nullable=True),
        sa.Column("rounds", sa.Integer(), nullable=False),
        sa.Column("instructed_by_agent_id", sa.Integer(), nullable=True),
        sa.Column("created_at", models.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["act_id"],
            ["legal_act.id"],
        ),
        sa.ForeignKeyConstraint(
            ["departement_code"],
            ["departement.code"],
        ),
        sa.ForeignKeyConstraint(
            ["instructed_by_agent_id"],
            ["agent.id"],
        ),
        sa.ForeignKeyConstraint(
            ["porteur_id"],
            ["porteur.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("family_key"),
        sa.UniqueConstraint("reference"),
    )
    with op.batch_alter_table("compte_rendu_financier", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_compte_rendu_financier_act_id"), ["act_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_compte_rendu_financier_porteur_id"), ["porteur_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_compte_rendu_financier_status"), ["status"], unique=False)

    op.create_table(
        "legal_act_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("act_id", sa.Integer(), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", models.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["act_id"],
            ["legal_act.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("act_id"),
    )
    op.create_table(
        "legal_act_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("act_id", sa.Integer(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("reference", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("collectivite_id", sa.Integer(), nullable=False),
        sa.Column("p104_action", sa.Integer(), nullable=False),
        sa.Column("domain", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["act_id"],
            ["legal_act.id"],
        ),
        sa.ForeignKeyConstraint(
            ["collectivite_id"],
            ["collectivite.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("act_id", "source", "source_id", name="uq_legal_act_line"),
    )
    with op.batch_alter_table("legal_act_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_legal_act_line_act_id"), ["act_id"], unique=False)

    op.create_table(
        "payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("act_id", sa.Integer(), nullable=False),
        sa.Column("family_key", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("tranche", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("ej_number", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("ordered_on", sa.Date(), nullable=False),
        sa.Column("recorded_by_agent_id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", models.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["act_id"],
            ["legal_act.id"],
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_agent_id"],
            ["agent.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key", name="uq_payment_key"),
    )
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_act_id"), ["act_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payment_family_key"), ["family_key"], unique=False)

    with op.batch_alter_table("collectivite", schema=None) as batch_op:
        batch_op.add_column(sa.Column("siret", sqlmodel.sql.sqltypes.AutoString(length=14), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("collectivite", schema=None) as batch_op:
        batch_op.drop_column("siret")

    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_family_key"))
        batch_op.drop_index(batch_op.f("ix_payment_act_id"))

    op.drop_table("payment")
    with op.batch_alter_table("legal_act_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_legal_act_line_act_id"))

    op.drop_table("legal_act_line")
    op.drop_table("legal_act_document")
    with op.batch_alter_table("compte_rendu_financier", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_compte_rendu_financier_status"))
        batch_op.drop_index(batch_op.f("ix_compte_rendu_financier_porteur_id"))
        batch_op.drop_index(batch_op.f("ix_compte_rendu_financier_act_id"))

    op.drop_table("compte_rendu_financier")
    with op.batch_alter_table("legal_act", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_legal_act_family_draft",
            sqlite_where=sa.text("status = 'awaiting_signature'"),
            postgresql_where=sa.text("status = 'awaiting_signature'"),
        )
        batch_op.drop_index(batch_op.f("ix_legal_act_year"))
        batch_op.drop_index(batch_op.f("ix_legal_act_status"))
        batch_op.drop_index(batch_op.f("ix_legal_act_porteur_id"))
        batch_op.drop_index(batch_op.f("ix_legal_act_family_key"))
        batch_op.drop_index(batch_op.f("ix_legal_act_departement_code"))

    op.drop_table("legal_act")
