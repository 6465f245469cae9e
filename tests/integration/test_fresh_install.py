"""``territoires db upgrade && seed reference && seed demo`` on an empty directory, as a newcomer
types it: the installed console script, in a subprocess, on SQLite and on PostgreSQL."""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import PG_ADMIN_URL, _pg_url

TERRITOIRES = str(Path(sys.executable).with_name("territoires"))


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TERRITOIRES_")}
    if request.param == "sqlite":
        yield env  # default: ./var/territoires.db in the working directory
        return
    name = f"territoires_fresh_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    env["TERRITOIRES_DATABASE_URL"] = _pg_url(name)
    yield env
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _run(env, cwd, *args):
    done = subprocess.run([TERRITOIRES, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_upgrade_then_seeds_work_on_an_empty_directory(empty_database, tmp_path):
    env, cwd = empty_database, tmp_path
    _run(env, cwd, "db", "upgrade")
    assert "101" in _run(env, cwd, "seed", "reference")
    first = json.loads(_run(env, cwd, "seed", "demo", "--json"))
    again = json.loads(_run(env, cwd, "seed", "demo", "--json"))
    assert first["ctai"] == 1 and first["ptai"] == 7 and first["collectivites"] == 12 and first["ctair"] == 6
    assert set(again.values()) == {0}

    if "TERRITOIRES_DATABASE_URL" not in env:
        assert (tmp_path / "var" / "territoires.db").exists()

    poitiers = json.loads(_run(env, cwd, "ctai", "show", "1", "--json"))
    assert poitiers["collectivite"]["nom"] == "Ville de Poitiers" and poitiers["signature_prefet"] == "2021-10-21"
    assert poitiers["financement"] == [{"annee": 2021, "socle_cents": 15_000_000, "complementaire_cents": 5_000_000}]
    assert poitiers["diagnostic"]["bpi"] == 229
    porteurs = {a["porteur_id"] for actions in poitiers["actions_par_domaine"].values() for a in actions} - {None}
    assert len(porteurs) == 7  # the 6 porteurs of the socle, and Toit du Monde
    dijon = json.loads(_run(env, cwd, "ctai", "show", "2", "--json"))  # seed 003's Côte-d'Or, 2020
    assert (dijon["type"], dijon["statut"], dijon["annees"]) == ("ctair", "active", [2019, 2020])
    assert dijon["collectivite"]["nom"] == "Dijon Métropole"
    assert dijon["financement"] == [{"annee": 2020, "socle_cents": 30_000_000, "complementaire_cents": 0}]

    agents = json.loads(_run(env, cwd, "agent", "list", "--json"))
    for dep in ("86", "76", "37", "38", "21", "63", "35", "67", "44", "31"):
        assert {a["role"] for a in agents if a["departement_code"] == dep} >= {"instructeur", "prefet"}
    assert {a["role"] for a in agents if a["departement_code"] is None} == {"diair", "ministere", "admin"}
    assert "intègre" in _run(env, cwd, "audit", "verify", "--sans-publications")  # no Prefect here
