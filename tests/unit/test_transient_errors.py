"""Which errors the idempotent tasks retry: transient trouble only, never a refusal of the data."""

from __future__ import annotations

import sqlite3

import httpx
import pytest
from prefect.states import Failed
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from faults import is_transient
from tasks.retry import retry_if_transient, transient


class _PgError(Exception):
    def __init__(self, sqlstate: str):
        super().__init__(f"erreur {sqlstate}")
        self.sqlstate = sqlstate


def _wrapped(cls, orig):
    return cls("SELECT 1", {}, orig)


@pytest.mark.parametrize(
    "orig",
    [
        sqlite3.OperationalError("database is locked"),
        sqlite3.OperationalError("disk I/O error"),
        _PgError("57P01"),
        _PgError("08006"),
        _PgError("40001"),
        _PgError("40P01"),
    ],
)
def test_locks_restarts_and_lost_connections_are_transient(orig):
    assert is_transient(_wrapped(OperationalError, orig))


@pytest.mark.parametrize(
    "error",
    [
        _wrapped(OperationalError, sqlite3.OperationalError("no such table: step_run")),
        _wrapped(IntegrityError, sqlite3.IntegrityError("panne simulée")),
        _wrapped(ProgrammingError, _PgError("P0001")),  # a trigger's RAISE EXCEPTION
        _wrapped(IntegrityError, _PgError("23505")),
        ValueError("montant invalide"),
    ],
)
def test_refusals_of_the_data_or_the_schema_are_not_retried(error):
    assert not is_transient(error) and not transient(error)


def test_a_connection_invalidated_is_transient_whatever_its_message():
    error = OperationalError("SELECT 1", {}, Exception("quelque chose"), connection_invalidated=True)
    assert is_transient(error)


def test_the_prefect_api_briefly_unreachable_is_transient():
    assert transient(httpx.ConnectError("refused"))


def test_the_retry_condition_reads_the_exception_from_the_failed_state():
    assert retry_if_transient(
        None, None, Failed(data=_wrapped(OperationalError, sqlite3.OperationalError("database is locked")))
    )
    assert not retry_if_transient(None, None, Failed(data=ValueError("non")))
    assert not retry_if_transient(None, None, Failed(data=None))
