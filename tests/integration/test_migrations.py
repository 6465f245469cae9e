"""The Alembic migrations build exactly the schema the models declare, on both databases."""

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlmodel import Session, SQLModel, select

import models.tables  # noqa: F401 - registers every table on SQLModel.metadata
from models.actors import Collectivite
from models.decision import AuditHead, Decision
from models.reference import Departement
from services.db import get_engine
from services.migrate import upgrade
from tests.conftest import PG_ADMIN_URL, _pg_url


def test_migrated_schema_matches_the_models(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), SQLModel.metadata)
    assert diff == []


def test_the_audit_chain_starts_from_its_genesis_head(engine):
    with Session(engine) as s:
        head = s.get(AuditHead, 1)
    assert head.last_decision_id is None and head.last_hash == "0" * 64


def test_datetimes_come_back_timezone_aware_in_utc(engine):
    paris_evening = datetime(2021, 10, 21, 19, 30, tzinfo=timezone(timedelta(hours=2)))
    with Session(engine) as s:
        s.add(Departement(code="86", nom="Vienne", region="Nouvelle-Aquitaine"))
        s.flush()
        s.add(
            Collectivite(
                name="Ville de Poitiers",
                type="commune",
                siren="999000011",
                departement_code="86",
                email="a@b.example",
                created_at=paris_evening,
            )
        )
        s.commit()
    with Session(engine) as s:
        stored = s.exec(select(Collectivite.created_at)).one()
    assert stored == paris_evening and stored.tzinfo == UTC


@pytest.fixture(params=["sqlite", "postgresql"])
def unmigrated_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'avant.db'}"
        return
    name = f"territoires_upgrade_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield _pg_url(name)
    get_engine(_pg_url(name)).dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _plain_chain(url, n=3, tamper=False):
    """Decisions chained the way the platform did before the chain was keyed (plain SHA-256)."""
    previous = "0" * 64
    with get_engine(url).begin() as conn:
        for i in range(1, n + 1):
            values = {
                "id": i,
                "entity_type": "ptai",
                "entity_id": 1,
                "step": "instruction",
                "from_status": "submitted",
                "to_status": "prefet_validation",
                "actor_agent_id": None,
                "actor_label": "instructeur.86@x.example",
                "decision": "favourable",
                "comment": None,
                "amount_cents": 1_000_000 + i,
                "created_at": datetime(2021, 7, 1, 10, i, tzinfo=UTC),
                "prev_hash": previous,
            }
            payload = json.dumps(
                {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in values.items()},
                sort_keys=True,
                ensure_ascii=False,
                separators=(",", ":"),
            )
            link = hashlib.sha256(payload.encode()).hexdigest()
            stored = dict(values, amount_cents=values["amount_cents"] + (1 if tamper and i == 2 else 0))
            conn.execute(Decision.__table__.insert().values(**stored, row_hash=link))
            previous = link
        conn.execute(
            text("UPDATE audithead SET last_decision_id = :i, last_hash = :h WHERE id = 1"), {"i": n, "h": previous}
        )


def test_the_upgrade_verifies_the_old_chain_then_seals_it_again_with_the_key(unmigrated_url):
    from services.engine import audit

    upgrade(unmigrated_url, "0005")
    _plain_chain(unmigrated_url)
    upgrade(unmigrated_url)
    with Session(get_engine(unmigrated_url)) as s:
        count, breaks = audit.verify(s)
        amounts = s.exec(select(Decision.amount_cents).order_by(Decision.id)).all()
    assert (count, breaks) == (3, []) and amounts == [1_000_001, 1_000_002, 1_000_003]


def test_the_upgrade_refuses_to_seal_a_chain_already_altered(unmigrated_url):
    upgrade(unmigrated_url, "0005")
    _plain_chain(unmigrated_url, tamper=True)
    with pytest.raises(Exception, match="piste d'audit altérée avant la mise à jour"):
        upgrade(unmigrated_url)
