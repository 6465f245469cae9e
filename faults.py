"""Which database errors are worth a new try.

Kept apart from ``services.db`` so that the outbox sender (in ``notifications``, below
``services``) can wait out the same errors as the tasks that retry.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, OperationalError

# PostgreSQL states worth a new try: serialization failure, deadlock, lock not available,
# server shutting down or restarting, connection lost.
_TRANSIENT_SQLSTATES = {
    "40001",
    "40P01",
    "55P03",
    "57P01",
    "57P02",
    "57P03",
    "08000",
    "08001",
    "08003",
    "08004",
    "08006",
}
_TRANSIENT_SQLITE = ("database is locked", "database table is locked", "disk i/o error", "unable to open database")


def is_transient(exc: BaseException) -> bool:
    """A database error that a new try may not meet: a lock not obtained within the busy
    timeout, a connection lost or refused, a restarting server. Errors of the data or the
    schema (a constraint, a trigger's refusal, a missing table) are not."""
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        orig = exc.orig
        state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
        if state is not None:
            return state in _TRANSIENT_SQLSTATES
        if isinstance(exc, OperationalError):
            message = str(orig).lower()
            return any(m in message for m in _TRANSIENT_SQLITE) or "connection" in message
    return False
