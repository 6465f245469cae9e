"""Fixtures shared by the integration tests: Vienne's agents and the Ville de Poitiers, and a
CTAI just created for it (the tests that drive a contract through its steps start from it)."""

import pytest

from services.ctai import workflow as ctai_workflow
from services.db import unit_of_work
from tests.workflow import poitiers


@pytest.fixture
def ids(engine):
    return poitiers(engine)


@pytest.fixture
def contract(engine, ids):
    with unit_of_work(engine) as s:
        ctai, created = ctai_workflow.create(s, collectivite_id=ids["poitiers"], first_year=2021)
    assert created
    return ctai.id
