"""The Alembic migrations build exactly the schema the models declare, on both databases."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from datetime import UTC, datetime, timedelta, timezone
from sqlmodel import SQLModel, Session, select

import models.tables  # noqa: F401
from models.decision import AuditHead
from models.reference import Departement
from models.actors import Collectivite


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
        s.add(Collectivite(name="Ville de Poitiers", type="commune", siren="999000011", departement_code="86",
                           email="a@b.example", created_at=paris_evening))
        s.commit()
    with Session(engine) as s:
        stored = s.exec(select(Collectivite.created_at)).one()
    assert stored == paris_evening and stored.tzinfo == UTC
