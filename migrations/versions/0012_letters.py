"""letters: how a collectivité's executive is addressed, what an agent signs under

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 12:30:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("collectivite") as batch:
        batch.add_column(sa.Column("appellation", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True))
    with op.batch_alter_table("agent") as batch:
        batch.add_column(sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True))

    # The ministry no longer writes to the applicants at delegation (their letter comes with the act):
    # a message of that kind still queued is given up, with the reason.
    op.execute(
        "UPDATE outbox_message SET status = 'failed', last_error = 'courriel supprimé : la lettre de la "
        "préfecture accompagne l''acte signé' WHERE event = 'credits_delegated_porteur' "
        "AND status IN ('pending', 'sending')"
    )


def downgrade() -> None:
    with op.batch_alter_table("agent") as batch:
        batch.drop_column("title")
    with op.batch_alter_table("collectivite") as batch:
        batch.drop_column("appellation")
