"""Prefect's server as ``territoires up`` starts it: ``prefect server start``, with its SQLite
writes taken in ``BEGIN IMMEDIATE`` transactions.

Why: Prefect opens its write transactions on SQLite as ``DEFERRED``. Such a transaction reads
first and asks for the write lock only at its first write; if another connection has written
in between, SQLite cannot upgrade it and answers « database is locked » at once, without
waiting for its busy timeout (60 s here). Under the demo's load (a resume from the UI while the
event persister, the served runs and their logs write) the resume then fails with a 503 and the
agent's form stays open with an error. Measured here: six resumes sent together, five refused.
An ``IMMEDIATE`` transaction takes the write lock when it begins, so a second writer waits its
turn (up to the busy timeout) instead of failing; reads outside transactions keep WAL's
concurrency. Prefect's own migrations already run this way.

Only SQLite is concerned: on PostgreSQL nothing changes.
"""

from __future__ import annotations

import sys
from contextlib import asynccontextmanager


def immediate_sqlite_writes() -> None:
    """Makes every transaction Prefect begins on SQLite an IMMEDIATE one (see the module)."""
    from prefect.server.database import configurations

    @asynccontextmanager
    async def begin_transaction(self, session, with_for_update: bool = False):
        token = configurations.SQLITE_BEGIN_MODE.set("IMMEDIATE")
        try:
            async with session.begin() as transaction:
                yield transaction
        finally:
            configurations.SQLITE_BEGIN_MODE.reset(token)

    configurations.AioSqliteConfiguration.begin_transaction = begin_transaction


def main(argv: list[str] | None = None) -> int:
    import cli  # noqa: F401 - no telemetry, before Prefect is imported

    immediate_sqlite_writes()
    from prefect.cli import app

    sys.argv = [sys.argv[0], "server", "start", *(sys.argv[1:] if argv is None else argv)]
    app()
    return 0


if __name__ == "__main__":
    sys.exit(main())
