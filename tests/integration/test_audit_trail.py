"""The decision trail on a real database: append-only, chained, and checked by ``audit verify``."""

import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from models.decision import Decision
from services.db import unit_of_work
from services.engine.audit import Actor, record_decision
from tests.cli import run, run_json


def _record(engine, n=3, entity_id=1):
    for i in range(n):
        with unit_of_work(engine) as s:
            record_decision(
                s,
                entity_type="ptai",
                entity_id=entity_id,
                step="instruction",
                from_status="submitted",
                to_status="prefet_validation",
                actor=Actor("instructeur.86@prefecture-86.example"),
                decision="favourable",
                amount_cents=1_000_000 + i,
                comment=f"avis {i}",
            )


def _edit_bypassing_the_guard(engine, *statements, params=None):
    """What an intruder with database access would do: lift the triggers, then edit."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))  # no trigger fires
        else:
            for trigger in ("decision_no_update", "decision_no_delete", "audithead_no_delete"):
                conn.execute(text(f"DROP TRIGGER IF EXISTS {trigger}"))
        for sql in statements:
            conn.execute(text(sql), params or {})


def test_audit_verify_passes_on_an_intact_trail(app_env, engine):
    _record(engine)
    result, out = run_json("audit", "verify", "--sans-publications")
    assert result.exit_code == 0 and out == {"ok": True, "decisions": 3, "tetes_publiees_verifiees": 0, "anomalies": []}


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE decision SET amount_cents = 99999999 WHERE id = 2",
        "UPDATE decision SET comment = 'avis modifié' WHERE id = 1",
        "UPDATE decision SET actor_label = 'quelqu''un d''autre' WHERE id = 3",
    ],
)
def test_audit_verify_fails_after_one_decision_row_is_edited(app_env, engine, sql):
    _record(engine)
    _edit_bypassing_the_guard(engine, sql)
    result, out = run_json("audit", "verify", "--sans-publications")
    assert result.exit_code == 1
    assert out["ok"] is False and len(out["anomalies"]) == 1
    assert "modifié" in out["anomalies"][0]["reason"]


def test_audit_verify_names_the_altered_row_in_french(app_env, engine):
    _record(engine)
    _edit_bypassing_the_guard(engine, "UPDATE decision SET decision = 'unfavourable' WHERE id = 2")
    result = run("audit", "verify", "--sans-publications")
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
            record_decision(
                s,
                entity_type="ptai",
                entity_id=9,
                step="validation",
                from_status="prefet_validation",
                to_status="transmitted",
                actor=Actor("prefet"),
                decision="validate",
            )
            raise RuntimeError("crash before commit")
    _record(engine, n=1)
    result, out = run_json("audit", "verify", "--sans-publications")
    assert out == {"ok": True, "decisions": 2, "tetes_publiees_verifiees": 0, "anomalies": []}


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
    result, out = run_json("audit", "verify", "--sans-publications")
    assert out == {"ok": True, "decisions": 40, "tetes_publiees_verifiees": 0, "anomalies": []}


def _links(engine) -> list[tuple[int, str]]:
    with Session(engine) as s:
        return [(d.id, d.row_hash) for d in s.exec(select(Decision).order_by(Decision.id))]


def test_a_chain_rewritten_without_the_key_is_detected_row_by_row_and_at_its_head(app_env, engine):
    """The intruder edits a row and recomputes every link with plain SHA-256, as the chain was
    built before it was keyed; the head follows. Nothing matches under the key."""
    import hashlib
    import json

    from models.decision import HASHED_FIELDS

    _record(engine)
    with Session(engine) as s:
        rows = list(s.exec(select(Decision).order_by(Decision.id)))
    previous, statements = "0" * 64, []
    for row in rows:
        values = {n: getattr(row, n) for n in HASHED_FIELDS} | {"prev_hash": previous}
        if row.id == 2:
            values["amount_cents"] = 99_999_999
        payload = json.dumps(
            {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in values.items()},
            sort_keys=True,
            ensure_ascii=False,
            separators=(",", ":"),
        )
        link = hashlib.sha256(payload.encode()).hexdigest()
        statements.append(
            f"UPDATE decision SET prev_hash = '{previous}', row_hash = '{link}', "
            f"amount_cents = {values['amount_cents']} WHERE id = {row.id}"
        )
        previous = link
    statements.append(f"UPDATE audithead SET last_hash = '{previous}' WHERE id = 1")
    _edit_bypassing_the_guard(engine, *statements)
    result, out = run_json("audit", "verify", "--sans-publications")
    assert result.exit_code == 1 and {a["decision_id"] for a in out["anomalies"]} == {1, 2, 3}
    assert any("sceau" in a["reason"] for a in out["anomalies"])


def test_a_missing_head_fails_the_check_and_stops_every_new_decision(app_env, engine):
    _record(engine)
    _edit_bypassing_the_guard(engine, "DELETE FROM audithead")
    result, out = run_json("audit", "verify", "--sans-publications")
    assert result.exit_code == 1 and "disparu" in out["anomalies"][0]["reason"]
    from services.engine.audit import AuditTampered

    with pytest.raises(AuditTampered):
        _record(engine, n=1)
    with Session(engine) as s:
        assert len(s.exec(select(Decision)).all()) == 3  # nothing was added to the broken chain


def test_a_tail_cut_off_and_its_head_rewound_is_caught_by_the_seal(app_env, engine):
    _record(engine)
    second = _links(engine)[1][1]
    _edit_bypassing_the_guard(
        engine,
        "DELETE FROM decision WHERE id = 3",
        "UPDATE audithead SET last_decision_id = 2, last_hash = :h WHERE id = 1",
        params={"h": second},
    )
    result, out = run_json("audit", "verify", "--sans-publications")
    assert result.exit_code == 1 and "sceau" in out["anomalies"][0]["reason"]


def test_a_tail_rewritten_by_someone_holding_the_key_is_caught_by_the_published_heads(app_env, engine):
    """With the key, the intruder cuts the last decision and seals the head again: the chain in
    the database is consistent, but the head published by the daily run is gone from it."""
    from models.decision import head_seal
    from services.engine import audit

    _record(engine)
    published = [(3, _links(engine)[2][1], "24/11/2026 08:00")]
    second = _links(engine)[1][1]
    _edit_bypassing_the_guard(
        engine,
        "DELETE FROM decision WHERE id = 3",
        "UPDATE audithead SET last_decision_id = 2, last_hash = :h, seal = :s WHERE id = 1",
        params={"h": second, "s": head_seal(2, second, audit.chain_key())},
    )
    with Session(engine) as s:
        count, intact = audit.verify(s)
        _, caught = audit.verify(s, published)
    assert (count, intact) == (2, [])
    assert [b.decision_id for b in caught] == [3] and "disparu" in caught[0].reason


def test_the_database_refuses_to_truncate_the_chain_or_delete_its_head(engine):
    _record(engine, n=1)
    statements = ["DELETE FROM audithead"]
    if engine.dialect.name == "postgresql":  # the row triggers do not see a TRUNCATE: statement triggers do
        statements += ["TRUNCATE audithead", "TRUNCATE decision CASCADE", "TRUNCATE decision, audithead CASCADE"]
    for sql in statements:
        with pytest.raises(DBAPIError, match="append-only"):
            with engine.begin() as conn:
                conn.execute(text(sql))
    with Session(engine) as s:
        assert len(s.exec(select(Decision)).all()) == 1


def test_audit_verify_says_when_the_published_heads_could_not_be_compared(app_env, engine):
    _record(engine)
    result, out = run_json("audit", "verify")  # no Prefect to read the published heads from
    assert result.exit_code == 3 and out["ok"] is True and "PREFECT_API_URL" in out["avertissement"]
