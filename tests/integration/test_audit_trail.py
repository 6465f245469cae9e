"""The decision trail on a real database: append-only, chained, and checked by ``audit verify``."""

import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from models.decision import Decision
from services.engine.audit import Actor, record_decision
from services.db import unit_of_work
from tests.cli import run, run_json


def _record(engine, n=3, entity_id=1):
    for i in range(n):
        with unit_of_work(engine) as s:
            record_decision(s, entity_type="ptai", entity_id=entity_id, step="instruction", from_status="submitted",
                            to_status="prefet_validation", actor=Actor("instructeur.86@prefecture-86.example"),
                            decision="favourable", amount_cents=1_000_000 + i, comment=f"avis {i}")


def _edit_bypassing_the_guard(engine, sql):
    """What an intruder with database access would do: lift the trigger, then edit."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE decision DISABLE TRIGGER decision_no_update"))
            conn.execute(text(sql))
            conn.execute(text("ALTER TABLE decision ENABLE TRIGGER decision_no_update"))
        else:
            conn.execute(text("DROP TRIGGER decision_no_update"))
            conn.execute(text(sql))


def test_audit_verify_passes_on_an_intact_trail(app_env, engine):
    _record(engine)
    result, out = run_json("audit", "verify")
    assert result.exit_code == 0 and out == {"ok": True, "decisions": 3, "anomalies": []}


@pytest.mark.parametrize("sql", [
    "UPDATE decision SET amount_cents = 99999999 WHERE id = 2",
    "UPDATE decision SET comment = 'avis modifié' WHERE id = 1",
    "UPDATE decision SET actor_label = 'quelqu''un d''autre' WHERE id = 3",
])
def test_audit_verify_fails_after_one_decision_row_is_edited(app_env, engine, sql):
    _record(engine)
    _edit_bypassing_the_guard(engine, sql)
    result, out = run_json("audit", "verify")
    assert result.exit_code == 1
    assert out["ok"] is False and len(out["anomalies"]) == 1
    assert "modifié" in out["anomalies"][0]["reason"]


def test_audit_verify_names_the_altered_row_in_french(app_env, engine):
    _record(engine)
    _edit_bypassing_the_guard(engine, "UPDATE decision SET decision = 'unfavourable' WHERE id = 2")
    result = run("audit", "verify")
    assert result.exit_code == 1
    assert "décision n° 2" in result.stderr and "ALTÉRÉE" in result.stderr


def test_the_database_refuses_to_update_or_delete_a_decision(engine):
    _record(engine, n=1)
    for sql in ("UPDATE decision SET comment = 'x'", "DELETE FROM decision"):
        with pytest.raises(DBAPIError, match="append-only"):
            with engine.begin() as conn:
                conn.execute(text(sql))
    with Session(engine) as s:
        assert s.exec(select(Decision.comment)).all() == ["avis 0"]


def test_a_rolled_back_transaction_leaves_no_decision_and_an_intact_chain(app_env, engine):
    _record(engine, n=1)
    with pytest.raises(RuntimeError):
        with unit_of_work(engine) as s:
            record_decision(s, entity_type="ptai", entity_id=9, step="validation", from_status="prefet_validation",
                            to_status="transmitted", actor=Actor("prefet"), decision="validate")
            raise RuntimeError("crash before commit")
    _record(engine, n=1)
    result, out = run_json("audit", "verify")
    assert out == {"ok": True, "decisions": 2, "anomalies": []}


def test_concurrent_writers_keep_one_unbroken_chain(app_env, engine):
    errors = []

    def writer(entity_id):
        try:
            _record(engine, n=10, entity_id=entity_id)
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    result, out = run_json("audit", "verify")
    assert out == {"ok": True, "decisions": 40, "anomalies": []}
