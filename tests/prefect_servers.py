"""Prefect servers for the tests: on a database whose schema is there already, without the
background services the platform does not use.

A Prefect server on an empty database first runs its own migrations: about 13 s of CPU on this
machine, at each of the suite's servers. The schema is built once, by ``prefect server database
upgrade`` (Prefect's own command), into a template that each server's database is copied from:
a file for SQLite, a template database for PostgreSQL. The server then starts as on a database it
created itself, with its migrations checked at start. ``territoires up`` on a new directory is
still tested from an empty database (tests/integration/test_first_run.py).

The services turned off in the test servers serve people and automations, not the platform: the
events kept for the UI's feed and for automations, the task runs recorded from those events, the
scheduler of the deployments' schedules (the tests start the scheduled flows themselves), the
marking of late runs and offline workers. They took about half as much CPU as the tests' own process.
Pauses, resumes, cancellations and their expiry keep their services. ``territoires up`` (the
e2e, chaos ``up`` and first-run tests) runs its server with all of them.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import prefect
from sqlalchemy import create_engine, text

PREFECT = str(Path(sys.executable).with_name("prefect"))
UNUSED_SERVICES = {
    f"PREFECT_SERVER_SERVICES_{name}_ENABLED": "false"
    for name in (
        "EVENT_PERSISTER",
        "EVENT_LOGGER",
        "TRIGGERS",
        "TASK_RUN_RECORDER",
        "SCHEDULER",
        "LATE_RUNS",
        "FOREMAN",
    )
}
TEMPLATE = "prefect_template_" + prefect.__version__.replace(".", "_").replace("+", "_")


def _upgrade(settings: dict) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}  # a default SQLite unless told
    done = subprocess.run(
        [PREFECT, "--no-prompt", "server", "database", "upgrade", "-y"],
        env={**env, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", **settings},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def shared_folder(tmp_path_factory) -> Path:
    """A folder the test processes of one ``pytest -n`` session share (or this session's own)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def migrated_sqlite_home(home: Path, shared: Path) -> Path:
    """``home`` as a Prefect home whose SQLite database holds the schema (the template is built
    once in ``shared``, a folder the test processes of one session share)."""
    template = shared / f"{TEMPLATE}.db"
    with (shared / "prefect-template.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the other test process waits for the template
        if not template.exists():
            building = shared / "prefect-template-home"
            _upgrade({"PREFECT_HOME": str(building)})
            _copy_sqlite(building / "prefect.db", template)
    home.mkdir(parents=True, exist_ok=True)
    _copy_sqlite(template, home / "prefect.db")
    return home


def _copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy, write-ahead log included."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def migrated_postgresql_database(admin_url: str, name: str, shared: Path) -> None:
    """Creates the PostgreSQL database ``name`` with Prefect's schema, from a template database
    kept in the test cluster (built once, under an advisory lock, renamed only once complete)."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(hashtext(:name))"), {"name": TEMPLATE})
            try:
                if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": TEMPLATE}).first():
                    building = f"{TEMPLATE}_partial"
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)'))
                    conn.execute(text(f'CREATE DATABASE "{building}"'))
                    url = admin_url.rsplit("/", 1)[0].replace("postgresql+psycopg", "postgresql+asyncpg")
                    _upgrade(
                        {
                            "PREFECT_HOME": str(shared / "prefect-template-pg-home"),
                            "PREFECT_SERVER_DATABASE_CONNECTION_URL": f"{url}/{building}",
                        }
                    )
                    conn.execute(text(f'ALTER DATABASE "{building}" RENAME TO "{TEMPLATE}"'))
                conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"'))
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(hashtext(:name))"), {"name": TEMPLATE})
    finally:
        admin.dispose()
