"""keyed audit chain and sealed head, keyed approval codes, lock-outs, duplicate requests

- The chain of decisions moves from plain SHA-256 to HMAC-SHA256 with TERRITOIRES_AUDIT_KEY:
  the existing chain is verified under the old scheme first (the upgrade stops if it is
  broken), then sealed again with the key. The head gets a seal of its own.
- The head cannot be deleted; on PostgreSQL, neither table can be truncated.
- Approval codes are now hashed with the key: the codes issued before (plain hashes, some
  still in clear in the outbox) are revoked and erased; the daily run mails new ones.
- Wrong codes are counted per run and agent (approval_guard), for the lock-out.
- A request carries a key of what makes it a duplicate (applicant, porteur, title, campaign).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 09:00:00
"""

import hashlib
import json
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.types
from models.decision import GENESIS_HASH, HASHED_FIELDS, Decision, decision_hash_of, head_seal
from models.keys import AUDIT_CHAIN, subkey
from settings import get_settings

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

APPEND_ONLY_MESSAGE = "decision rows are append-only (audit trail)"  # as in 0001; PostgreSQL's function keeps it
OPEN = "status NOT IN ('rejected', 'closed')"


def upgrade() -> None:
    bind = op.get_bind()
    postgresql = bind.dialect.name == "postgresql"
    with op.batch_alter_table("audithead", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seal", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    with op.batch_alter_table("approval_code", schema=None) as batch_op:
        batch_op.drop_column("wrong_attempts")
    op.create_table(
        "approval_guard",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("flow_run_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("entity_type", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("step", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("wrong_codes", sa.Integer(), nullable=False),
        sa.Column("lockouts", sa.Integer(), nullable=False),
        sa.Column("locked_at", models.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("unlocked_at", models.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("unlocked_by_agent_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agent.id"],
        ),
        sa.ForeignKeyConstraint(
            ["unlocked_by_agent_id"],
            ["agent.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("flow_run_id", "agent_id", "step", name="uq_approval_guard"),
    )
    with op.batch_alter_table("ptai_request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("duplicate_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    _fill_duplicate_keys(bind)
    op.create_index(
        "uq_ptai_request_open_duplicate",
        "ptai_request",
        ["duplicate_key"],
        unique=True,
        sqlite_where=sa.text(OPEN),
        postgresql_where=sa.text(OPEN),
    )

    _revoke_plain_codes(bind)
    _drop_chain_triggers(postgresql)
    _reseal_chain(bind, subkey(get_settings().audit_key_bytes, AUDIT_CHAIN))
    _create_chain_triggers(postgresql)


def _fill_duplicate_keys(bind) -> None:
    from models.ptai import duplicate_key

    rows = bind.execute(
        sa.text("SELECT id, campaign_year, collectivite_id, porteur_id, title, status FROM ptai_request ORDER BY id")
    ).all()
    seen = set()
    for row in rows:
        key = duplicate_key(row.campaign_year, row.collectivite_id, row.porteur_id, row.title)
        if row.status not in ("rejected", "closed"):
            if key in seen:  # a later duplicate of an open request stays as it was filed, without a key
                continue
            seen.add(key)
        bind.execute(sa.text("UPDATE ptai_request SET duplicate_key = :k WHERE id = :i"), {"k": key, "i": row.id})


def _revoke_plain_codes(bind) -> None:
    now = datetime.now(UTC)
    bind.execute(
        sa.table("approval_code", sa.column("revoked_at", models.types.UtcDateTime()))
        .update()
        .where(sa.text("revoked_at IS NULL"))
        .values(revoked_at=now)
    )
    for row in bind.execute(
        sa.text("SELECT id, status, context FROM outbox_message WHERE event = 'approval_requested'")
    ).all():
        context = row.context if isinstance(row.context, dict) else json.loads(row.context)
        context.pop("code", None)
        context["code_ref"] = "(effacé)"
        status = "failed" if row.status in ("pending", "sending") else row.status
        bind.execute(
            sa.text(
                "UPDATE outbox_message SET context = :c, status = :s, last_error = CASE WHEN :s = 'failed' "
                "AND status <> 'failed' THEN 'code remplacé à la mise à jour de sécurité' ELSE last_error END "
                "WHERE id = :i"
            ),
            {"c": json.dumps(context, ensure_ascii=False), "s": status, "i": row.id},
        )


def _plain_hash(values: dict) -> str:
    payload = {name: (v.isoformat() if isinstance(v, datetime) else v) for name, v in values.items()}
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _reseal_chain(bind, key: bytes) -> None:
    """Verifies the chain under the plain SHA-256 scheme, then links it again with the key."""
    table = Decision.__table__
    rows = (
        bind.execute(sa.select(*(table.c[n] for n in HASHED_FIELDS), table.c.row_hash).order_by(table.c.id))
        .mappings()
        .all()
    )
    previous = GENESIS_HASH
    for row in rows:
        if row["prev_hash"] != previous or _plain_hash({n: row[n] for n in HASHED_FIELDS}) != row["row_hash"]:
            raise RuntimeError(
                f"piste d'audit altérée avant la mise à jour (décision n° {row['id']}) : "
                "la chaîne n'est pas scellée à nouveau ; restaurez une sauvegarde"
            )
        previous = row["row_hash"]
    head = bind.execute(sa.text("SELECT last_decision_id, last_hash FROM audithead WHERE id = 1")).first()
    if head is None or head.last_hash != previous or head.last_decision_id != (rows[-1]["id"] if rows else None):
        raise RuntimeError(
            "tête de la piste d'audit absente ou incohérente avant la mise à jour : restaurez une sauvegarde"
        )
    previous = GENESIS_HASH
    for row in rows:
        values = {**{n: row[n] for n in HASHED_FIELDS}, "prev_hash": previous}
        link = decision_hash_of(values, key)
        bind.execute(
            sa.text("UPDATE decision SET prev_hash = :p, row_hash = :h WHERE id = :i"),
            {"p": previous, "h": link, "i": row["id"]},
        )
        previous = link
    last = rows[-1]["id"] if rows else None
    bind.execute(
        sa.text("UPDATE audithead SET last_hash = :h, seal = :s WHERE id = 1"),
        {"h": previous, "s": head_seal(last, previous, key)},
    )


def _drop_chain_triggers(postgresql: bool) -> None:
    if postgresql:
        op.execute("DROP TRIGGER IF EXISTS decision_no_update ON decision")
    else:
        op.execute("DROP TRIGGER IF EXISTS decision_no_update")
        op.execute("DROP TRIGGER IF EXISTS decision_no_delete")


def _create_chain_triggers(postgresql: bool) -> None:
    """Rows: no UPDATE, no DELETE. Head: no DELETE. Neither: no TRUNCATE (PostgreSQL's row
    triggers do not see a TRUNCATE)."""
    if postgresql:
        op.execute(
            "CREATE TRIGGER decision_no_update BEFORE UPDATE OR DELETE ON decision "
            "FOR EACH ROW EXECUTE FUNCTION decision_append_only()"
        )
        op.execute(
            "CREATE TRIGGER decision_no_truncate BEFORE TRUNCATE ON decision "
            "FOR EACH STATEMENT EXECUTE FUNCTION decision_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audithead_no_delete BEFORE DELETE ON audithead "
            "FOR EACH ROW EXECUTE FUNCTION decision_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audithead_no_truncate BEFORE TRUNCATE ON audithead "
            "FOR EACH STATEMENT EXECUTE FUNCTION decision_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER decision_no_{verb.lower()} BEFORE {verb} ON decision "
                f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END"
            )
        op.execute(
            f"CREATE TRIGGER audithead_no_delete BEFORE DELETE ON audithead "
            f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END"
        )


def downgrade() -> None:
    bind = op.get_bind()
    postgresql = bind.dialect.name == "postgresql"
    if postgresql:
        op.execute("DROP TRIGGER IF EXISTS decision_no_truncate ON decision")
        op.execute("DROP TRIGGER IF EXISTS audithead_no_delete ON audithead")
        op.execute("DROP TRIGGER IF EXISTS audithead_no_truncate ON audithead")
    else:
        op.execute("DROP TRIGGER IF EXISTS audithead_no_delete")
    op.drop_index("uq_ptai_request_open_duplicate", table_name="ptai_request")
    with op.batch_alter_table("ptai_request", schema=None) as batch_op:
        batch_op.drop_column("duplicate_key")
    op.drop_table("approval_guard")
    with op.batch_alter_table("approval_code", schema=None) as batch_op:
        batch_op.add_column(sa.Column("wrong_attempts", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("audithead", schema=None) as batch_op:
        batch_op.drop_column("seal")
