"""On PostgreSQL the platform runs as a role that owns nothing: with the rights ``territoires db
grants`` prints, it records decisions, and it can neither rewrite, delete nor truncate the chain,
nor lift the triggers that guard it. (SQLite has no roles: its file's permissions play that part.)"""

import uuid

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from migrations.grants import application_grants
from services.db import unit_of_work
from services.engine.audit import Actor, record_decision
from tests.conftest import _truncate_pg


@pytest.fixture
def application_role(pg_database):
    """A login role with exactly the printed rights on the test database."""
    from services.db import get_engine

    _truncate_pg(get_engine(pg_database))
    role = f"territoires_app_{uuid.uuid4().hex[:8]}"
    database = make_url(pg_database).database
    owner = create_engine(pg_database, isolation_level="AUTOCOMMIT")
    with owner.connect() as conn:
        conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
        for statement in application_grants(role, database, inspect(owner).get_table_names()):
            conn.execute(text(statement))
    as_application = create_engine(make_url(pg_database).set(username=role))
    yield as_application
    as_application.dispose()
    with owner.connect() as conn:
        conn.execute(text(f'REASSIGN OWNED BY "{role}" TO CURRENT_USER'))
        conn.execute(text(f'DROP OWNED BY "{role}"'))
        conn.execute(text(f'DROP ROLE "{role}"'))
    owner.dispose()


def test_with_its_printed_rights_the_application_records_decisions_and_cannot_touch_the_chain(application_role):
    with unit_of_work(application_role) as s:
        record_decision(
            s,
            entity_type="ptai",
            entity_id=1,
            step="depot",
            from_status=None,
            to_status="submitted",
            actor=Actor("demandeur"),
            decision="submitted",
        )
    for sql in (
        "UPDATE decision SET comment = 'x'",
        "DELETE FROM decision",
        "TRUNCATE decision CASCADE",
        "DELETE FROM audithead",
        "TRUNCATE audithead",
        "ALTER TABLE decision DISABLE TRIGGER ALL",
        "DROP TRIGGER decision_no_update ON decision",
        "CREATE TABLE intrus (id int)",
    ):
        with pytest.raises(DBAPIError, match="permission denied|must be owner"):
            with application_role.begin() as conn:
                conn.execute(text(sql))
    with application_role.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM decision")).scalar_one() == 1


def test_the_printed_rights_refuse_a_role_name_that_would_inject_sql():
    with pytest.raises(ValueError, match="invalide"):
        application_grants('app"; DROP TABLE decision; --', "territoires", ["decision"])
    assert 'GRANT SELECT, INSERT ON "decision" TO "territoires_app"' in application_grants(
        "territoires_app", "territoires", ["decision", "ctai"]
    )
