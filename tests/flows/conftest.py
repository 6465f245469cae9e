"""One real Prefect server for the whole test session (``prefect_test_harness``)."""

import pytest
from prefect.testing.utilities import prefect_test_harness


@pytest.fixture(scope="session")
def prefect_server():
    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def mail_env(app_env, smtp_sink, monkeypatch):
    """Settings that point the tasks at the test database and the test SMTP sink."""
    from settings import get_settings

    _, server = smtp_sink
    monkeypatch.setenv("TERRITOIRES_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("TERRITOIRES_SMTP_PORT", str(server.port))
    get_settings.cache_clear()
    yield smtp_sink[0]
    get_settings.cache_clear()
